package pipeline

import (
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// RenderValue writes a value as an HCL expression.
func RenderValue(v cty.Value) string {
	if !v.IsKnown() {
		return "(unknown)"
	}
	return string(hclwrite.TokensForValue(v).Bytes())
}
