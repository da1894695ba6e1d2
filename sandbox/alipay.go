package sandbox

// alipayRoutes registers the alipay protocol's endpoints. (To be written.)
func (s *Sandbox) alipayRoutes() {}
