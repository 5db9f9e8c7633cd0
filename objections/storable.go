package objections

import "strings"

// CheckStorable validates what a store's schema relies on in an objection
// that Register (or the spool) prepared, so that both stores refuse the same
// input with the same error. An empty status is inferred from the number.
// EINVALID names the field.
func (o *Objection) CheckStorable() error {
	if err := checkKeys(o.ID, o.Org); err != nil {
		return err
	}
	if o.ReceivedAt.IsZero() {
		return Invalid("received_at", "", "is required")
	}
	if o.Status == "" {
		o.Status = StatusActive
		if o.Number == "" {
			o.Status = StatusPendingNumber
		}
	}
	switch {
	case o.Status == StatusActive && o.Number == "":
		return Invalid("number", "", "is empty for an active objection")
	case o.Status == StatusPendingNumber && o.Number != "":
		return Invalid("status", string(o.Status), "is pending_number but the number is known")
	case o.Status != StatusActive && o.Status != StatusPendingNumber:
		return Invalid("status", string(o.Status), "must be active or pending_number when recorded")
	}
	if o.CallRef != "" && o.Provider == "" {
		return Invalid("provider", "", "is required with call_ref")
	}
	o.Void = nil
	return nil
}

// CheckStorableRecord validates the keys a store needs in a relation or a
// consent: id, org and number. EINVALID names the field.
func CheckStorableRecord(id, org, number string) error {
	if err := checkKeys(id, org); err != nil {
		return err
	}
	if number == "" {
		return Invalid("number", number, "is empty")
	}
	return nil
}

func checkKeys(id, org string) error {
	if strings.TrimSpace(id) == "" {
		return Invalid("id", id, "is empty")
	}
	return ValidateOrgID(org)
}
