package main

deny contains "ConfigMaps are not allowed" if input.kind == "ConfigMap"
