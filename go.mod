module github.com/connectkit/connector

go 1.25.0

require (
	github.com/google/go-cmp v0.7.0
	github.com/jaswdr/faker/v2 v2.9.0
	go.uber.org/goleak v1.3.0
	golang.org/x/sync v0.20.0
)

require golang.org/x/time v0.15.0 // indirect
