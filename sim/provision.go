package sim

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/demo"
	"github.com/onecard-campus/onecard/device"
)

// signer returns the kit's terminal code of kind, a device.Client signing
// as it, and the fingerprint of its key, which the terminal's saved state
// carries so that the state of another server's demo is set aside.
func (s *State) signer(code string, kind onecard.TerminalKind) (demo.KitTerminal, *device.Client, string, error) {
	kt, ok := s.terminals[code]
	if !ok {
		return kt, nil, "", fmt.Errorf("terminal %q is not in the demo kit", code)
	} else if kt.Kind != kind {
		return kt, nil, "", fmt.Errorf("terminal %s is a %s terminal, not a %s", code, kt.Kind, kind)
	}
	key, err := hex.DecodeString(kt.Key)
	if err != nil {
		return kt, nil, "", fmt.Errorf("terminal %s: the kit's key is not hex", code)
	}
	sum := sha256.Sum256(key)
	return kt, &device.Client{BaseURL: s.Server, School: s.Kit.School, Terminal: code, Key: key, HTTP: s.HTTP},
		hex.EncodeToString(sum[:8]), nil
}
