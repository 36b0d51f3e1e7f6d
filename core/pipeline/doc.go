// Package pipeline reads ebmflow pipeline files: HCL with variable, locals,
// plugin, stage, schedule and train blocks.
//
// Loading happens in two phases, as Terraform does it. Parse decodes the top
// level, resolves variables (defaults, -var, -var-file, EBMFLOW_VAR_NAME;
// type constraints and validation blocks) and locals (in dependency order),
// and collects the stage blocks with their plugin names. Bind then decodes
// each stage block against the schema its plugin sends: unknown attributes,
// wrong types, missing required attributes, references to undeclared
// stages, stages of the wrong kind and reference cycles are all reported as
// hcl.Diagnostics with file, line, column and a snippet, every problem at
// once. The result is a stage graph in topological order.
package pipeline
