package objections

import "time"

// Delivery is one event of the transactional outbox waiting for one webhook
// target. The stores write a delivery for every active target in the same
// transaction as the objection or void it announces (a trigger on the
// objections and objection_voids tables), so an event exists exactly when
// its record was committed, and survives restarts.
//
// Deliveries of one Key (an org and number) are handed out one at a time,
// oldest first, and the next only after the previous one was acknowledged:
// every receiver sees the events of a number in the order they happened,
// whichever instance delivers them.
type Delivery struct {
	ID     int64  `json:"id"`
	Target string `json:"target"`
	// EventID identifies the event across targets and attempts:
	// "<objection id>.recorded" or "<objection id>.voided". Receivers
	// deduplicate on it (delivery is at least once).
	EventID     string    `json:"event_id"`
	Kind        EventKind `json:"kind"` // EventObjectionRecorded or EventObjectionVoided
	ObjectionID string    `json:"objection_id"`
	Org         string    `json:"org"`
	// Key orders deliveries: org and number, or org and objection id while
	// the number is unknown (pending_number).
	Key string `json:"key"`
	// At is when the event happened (received_at or the void's time).
	At       time.Time `json:"at"`
	Attempts int       `json:"attempts"`
	// Lease identifies the claim that handed the delivery out; failing a
	// delivery needs it, so a claim that outlived its lease changes nothing.
	Lease string `json:"lease,omitempty"`
}

// OutboxStats describes the deliveries not yet acknowledged.
type OutboxStats struct {
	Pending int64
	// Oldest is the event time of the oldest pending delivery; zero when
	// none is pending.
	Oldest time.Time
}

// MaxDeliveryError bounds the last error a store keeps of a failed
// delivery.
const MaxDeliveryError = 1000

// ClipDeliveryError cuts a delivery's last error to MaxDeliveryError
// bytes.
func ClipDeliveryError(s string) string {
	if len(s) > MaxDeliveryError {
		return s[:MaxDeliveryError]
	}
	return s
}
