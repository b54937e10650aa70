// Package pgdest is an [ops.Destination] that writes to PostgreSQL.
package pgdest
