// Command ebmflow trains energy-based models from HCL pipelines whose stages
// are plugin processes. Run `ebmflow -help` for the subcommands.
package main

import "os"

func main() { os.Exit(runCLI(os.Args[1:], os.Stdout, os.Stderr)) }
