package sdk

import "fmt"

// AttrType is the type of a stage-block attribute.
type AttrType string

const (
	TypeString     AttrType = "string"
	TypeNumber     AttrType = "number"
	TypeInt        AttrType = "int" // an HCL number that must be whole
	TypeBool       AttrType = "bool"
	TypeListNumber AttrType = "list(number)"
	TypeListString AttrType = "list(string)"
)

// StageRef is the type of an attribute whose value is another stage of the
// given kind, written in HCL as stage.NAME. The plugin reaches that stage
// through a connection the host brokers (see Config.Energy and Config.Data).
func StageRef(k Kind) AttrType { return AttrType(fmt.Sprintf("stage(%s)", k)) }

// RefKind returns the stage kind of a StageRef type, or "" for other types.
func (t AttrType) RefKind() Kind {
	var k string
	if n, _ := fmt.Sscanf(string(t), "stage(%s", &k); n == 1 && len(k) > 1 && k[len(k)-1] == ')' {
		return Kind(k[:len(k)-1])
	}
	return ""
}

// Attribute describes one attribute of a stage block.
type Attribute struct {
	Name     string   `json:"name"`
	Type     AttrType `json:"type"`
	Required bool     `json:"required,omitempty"`
	// Default is used when the attribute is absent; it must be a value of
	// Type as Go decodes it from JSON (float64, string, bool, []any).
	Default any    `json:"default,omitempty"`
	Doc     string `json:"doc"`
	// Enum, when set, lists the allowed values of a string attribute.
	Enum []string `json:"enum,omitempty"`
	// Bounds, when set, limit a number or int attribute (each element of a
	// list(number)); the host refuses a value outside them before anything
	// runs. Write them with AtLeast, Above, AtMost, Below or Between.
	Bounds
}

// Schema lists the attributes of a stage block. The host decodes the user's
// block against it, so unknown attributes, wrong types and missing required
// attributes are reported with file, line and column before anything runs.
type Schema struct {
	Attributes []Attribute `json:"attributes"`
}

// Lookup returns the named attribute.
func (s Schema) Lookup(name string) (Attribute, bool) {
	for _, a := range s.Attributes {
		if a.Name == name {
			return a, true
		}
	}
	return Attribute{}, false
}
