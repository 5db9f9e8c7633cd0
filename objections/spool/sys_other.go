//go:build !unix

package spool

import "os"

// lockFile does nothing here: outside Unix the spool relies on the
// deployment to give each process its own data folder.
func lockFile(*os.File) error { return nil }

// syncDir does nothing here: Windows has no fsync for folders, and NTFS
// journals the names it creates.
func syncDir(string) error { return nil }
