// Command notaplugin is an ordinary program that happens to be named like a
// plugin: it prints a line and exits. The host must refuse it.
package main

import "fmt"

func main() { fmt.Println("hello, I am not an ebmflow plugin") }
