package main

warn contains msg if {
	msg := no_such_helper(input)
}
