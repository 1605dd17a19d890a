//go:build !linux

package fetch

import "os/exec"

// setParentDeathSignal does nothing: only Linux has Pdeathsig here, so
// elsewhere a go or git command may outlive a killed fnrun.
func setParentDeathSignal(cmd *exec.Cmd) {}
