// Package pipeline reads ebmflow pipeline files (HCL).
package pipeline
