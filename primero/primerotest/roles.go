package primerotest

// FormAccess is what a role may do with a form: read it, or read and write
// it (Primero's form_section_read_write "r" / "rw").
type FormAccess string

// The two form access levels.
const (
	Read      FormAccess = "r"
	ReadWrite FormAccess = "rw"
)

// DefaultRole is the unique_id of the role users get when User.Role is
// empty: every case form, read-write, in every module.
const DefaultRole = "role-synthetic-superuser"

// Role is a Primero role as far as field permissions go. What a user may
// read and write follows from it, through one mechanism (see
// docs/systems/primero.md):
//
//   - readable fields are the fields of the role's forms (in its modules)
//     plus the record information Primero always renders; records are
//     rendered with only those, `fields=` is cut down to them, and a filter
//     on any other field is ignored, ID fields included;
//   - writable fields are the fields of the role's read-write forms that
//     belong to the case's module (module_id of the body on create, of the
//     stored case on update) plus a few core fields; everything else in a
//     write body, and any key of a subform row its nested form does not
//     define, is dropped without an error;
//   - what remains is validated against the field types and, for selects
//     and radio buttons, against the options of their lookup.
type Role struct {
	// UniqueID names the role (User.Role refers to it).
	UniqueID string
	// Modules are the primero_module unique_ids the role works in; nil
	// means every module. A referral recipient's role must include the
	// case's module.
	Modules []string
	// Forms maps form unique_ids to the access the role has; nil means
	// every case form, read-write. Forms of nested subforms need no entry:
	// they follow their parent field.
	Forms map[string]FormAccess
}

// WithRole adds a role (can be repeated); a role with an existing unique_id
// replaces it.
func WithRole(r Role) Option { return func(c *config) { c.roles = append(c.roles, r) } }

// AddRole adds a role, or replaces the role with the same unique_id.
func (s *Server) AddRole(r Role) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.roles[r.UniqueID] = cloneRole(r)
	s.schemaChanged()
}

func cloneRole(r Role) *Role {
	c := r
	c.Modules = append([]string(nil), r.Modules...)
	if r.Modules == nil {
		c.Modules = nil
	}
	if r.Forms != nil {
		c.Forms = make(map[string]FormAccess, len(r.Forms))
		for k, v := range r.Forms {
			c.Forms[k] = v
		}
	}
	return &c
}

// roleOf returns a user's role, the default role when it names none or an
// unknown one, under s.mu.
func (s *Server) roleOf(u *userState) *Role {
	if r, ok := s.roles[u.Role]; ok {
		return r
	}
	return s.roles[DefaultRole]
}

// inModules reports whether module is one of mods (nil: every module).
func inModules(mods []string, module string) bool {
	if mods == nil {
		return true
	}
	for _, m := range mods {
		if m == module {
			return true
		}
	}
	return false
}
