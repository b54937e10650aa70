//go:build race

package main

// raceEnabled reports a build with the race detector, which slows the
// trials about tenfold: they run fewer iterations then.
const raceEnabled = true
