# A rule that takes minutes to evaluate, for the cancellation test.
package main

deny contains "never" if {
	r := numbers.range(1, 500)
	some a in r
	some b in r
	some c in r
	a + b + c < 0
}
