package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/verzet/verzet/objections"
)

// The webhook outbox (migration 005): a trigger writes a row per active
// target in the transaction of every objection and void; these methods
// hand the rows out to the relay in objections/httpapi. Claims run in a
// write (IMMEDIATE) transaction, so claims of several processes on one
// file follow each other.

// SetWebhookTargets makes urls the active webhook targets: new ones are
// added, others are deactivated (their undelivered rows wait until they are
// active again). Objections recorded from now on get a delivery for each.
func (s *Store) SetWebhookTargets(ctx context.Context, urls []string, now time.Time) error {
	list, err := jsonList(urls)
	if err != nil {
		return err
	}
	return s.write(ctx, "set webhook targets", func(tx dbtx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE webhook_targets
			SET active = (url IN (SELECT value FROM json_each(?)))`, list); err != nil {
			return fmt.Errorf("deactivate webhook targets: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_targets (url, active, added_at)
			SELECT value, 1, ? FROM json_each(?) WHERE true
			ON CONFLICT (url) DO UPDATE SET active = 1`, formatTime(now), list); err != nil {
			return fmt.Errorf("add webhook targets: %w", err)
		}
		return nil
	})
}

// claimSQL selects up to ? due deliveries of the targets (a JSON array):
// for each key only its oldest undelivered row, and only when no lease on
// it is running. A row is not a head while an older row of its key is
// undelivered, leased or not: that keeps the order per key.
const claimSQL = `UPDATE outbox SET lease_id = ?, lease_until = ?
WHERE id IN (
	SELECT o.id FROM outbox o
	WHERE o.target IN (SELECT value FROM json_each(?)) AND o.delivered_at IS NULL AND o.next_at <= ?
		AND (o.lease_until IS NULL OR o.lease_until <= ?)
		AND NOT EXISTS (SELECT 1 FROM outbox p
			WHERE p.target = o.target AND p.key = o.key AND p.delivered_at IS NULL AND p.id < o.id)
	ORDER BY o.id
	LIMIT ?)
RETURNING id, target, event_id, kind, objection_id, org, key, at, attempts, lease_id`

// ClaimDeliveries leases up to limit due deliveries for targets, oldest
// first, at most one per target and key, for lease. Deliver each, then
// AckDelivery or RetryDelivery it; a lease that runs out hands the
// delivery to the next claim (delivery is at least once).
func (s *Store) ClaimDeliveries(ctx context.Context, targets []string, now time.Time, lease time.Duration, limit int) ([]objections.Delivery, error) {
	if len(targets) == 0 || limit <= 0 {
		return nil, nil
	}
	list, err := jsonList(targets)
	if err != nil {
		return nil, err
	}
	var out []objections.Delivery
	err = s.write(ctx, "claim deliveries", func(tx dbtx) error {
		nowText := formatTime(now)
		rows, err := tx.QueryContext(ctx, claimSQL, objections.NewID(now), formatTime(now.Add(lease)),
			list, nowText, nowText, limit)
		if err != nil {
			return fmt.Errorf("claim deliveries: %w", err)
		}
		out, err = collect(rows, scanDelivery)
		return err
	})
	if err != nil {
		return nil, err
	}
	// RETURNING does not keep the subquery's order.
	slices.SortFunc(out, func(a, b objections.Delivery) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

func scanDelivery(r rowScanner) (objections.Delivery, error) {
	var (
		d     objections.Delivery
		kind  string
		lease sql.NullString
	)
	err := r.Scan(&d.ID, &d.Target, &d.EventID, &kind, &d.ObjectionID, &d.Org, &d.Key, at(&d.At), &d.Attempts, &lease)
	d.Kind, d.Lease = objections.EventKind(kind), lease.String
	return d, err
}

// AckDelivery marks a delivery as delivered at now, whichever claim holds
// it: a receiver that acknowledged has the event.
func (s *Store) AckDelivery(ctx context.Context, id int64, now time.Time) error {
	return s.exec(ctx, "acknowledge delivery", `UPDATE outbox SET delivered_at = ?, attempts = attempts + 1,
			lease_id = NULL, lease_until = NULL, last_error = ''
		WHERE id = ? AND delivered_at IS NULL`, formatTime(now), id)
}

// RetryDelivery records a failed attempt of d and makes it due again at
// next. It changes nothing when d's lease was lost to another claim.
func (s *Store) RetryDelivery(ctx context.Context, d objections.Delivery, next time.Time, lastError string) error {
	return s.exec(ctx, "retry delivery", `UPDATE outbox SET attempts = attempts + 1, next_at = ?, last_error = ?,
			lease_id = NULL, lease_until = NULL
		WHERE id = ? AND lease_id = ? AND delivered_at IS NULL`,
		formatTime(next), objections.ClipDeliveryError(lastError), d.ID, d.Lease)
}

// OutboxStats counts the undelivered deliveries of targets and finds the
// oldest one's event time.
func (s *Store) OutboxStats(ctx context.Context, targets []string) (objections.OutboxStats, error) {
	var st objections.OutboxStats
	list, err := jsonList(targets)
	if err != nil {
		return st, err
	}
	if err := s.q().QueryRowContext(ctx, `SELECT count(*), coalesce(min(at), '') FROM outbox
		WHERE target IN (SELECT value FROM json_each(?)) AND delivered_at IS NULL`, list).Scan(&st.Pending, optAt(&st.Oldest)); err != nil {
		return st, translate("read outbox stats", err)
	}
	return st, nil
}

// PruneDeliveries deletes deliveries acknowledged before before, at most
// limit at a time, and returns how many it deleted.
func (s *Store) PruneDeliveries(ctx context.Context, before time.Time, limit int) (int64, error) {
	return s.execCount(ctx, "prune deliveries", `DELETE FROM outbox WHERE id IN (
		SELECT id FROM outbox WHERE delivered_at < ? ORDER BY delivered_at LIMIT ?)`, formatTime(before), limit)
}
