package main

deny contains "never" if {
	http.send({"method": "GET", "url": "http://example.com"})
}
