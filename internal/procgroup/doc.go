// Package procgroup runs a command in a process group of its own and ends the whole
// group, so that stopping a command also stops the processes it started (npm's
// scripts, a server's workers). The local AWS stand-ins and the site builds use it.
package procgroup
