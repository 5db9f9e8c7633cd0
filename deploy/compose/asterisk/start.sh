#!/bin/sh
# Writes ari.conf from deploy/asterisk/ari.conf (mounted read-only at
# /etc/verzet/ari.conf) with the password from VERZET_ARI_PASSWORD — the
# same variable verzet reads, from the same .env — then runs Asterisk in the
# foreground as its own user.
set -eu
if [ -z "${VERZET_ARI_PASSWORD:-}" ]; then
	echo "verzet-asterisk: VERZET_ARI_PASSWORD is not set" >&2
	exit 1
fi
umask 027
awk '/^[[:space:]]*password[[:space:]]*=/ { print "password = " ENVIRON["VERZET_ARI_PASSWORD"]; next } { print }' \
	/etc/verzet/ari.conf > /etc/asterisk/ari.conf
chown root:asterisk /etc/asterisk/ari.conf
unset VERZET_ARI_PASSWORD
exec asterisk -f -U asterisk -G asterisk "$@"
