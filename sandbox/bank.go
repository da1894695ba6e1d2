package sandbox

// bankRoutes registers the bank protocol's endpoints. (To be written.)
func (s *Sandbox) bankRoutes() {}
