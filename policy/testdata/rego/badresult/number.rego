package main

deny contains 42 if input.kind == "ConfigMap"
