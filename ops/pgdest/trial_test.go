package pgdest_test

const childEnv = "PGDEST_TRIAL_CHILD"

func trialChild() int { return 2 }
