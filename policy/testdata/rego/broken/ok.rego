package main

deny contains "ok" if input.kind == "ConfigMap"
