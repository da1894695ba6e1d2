package sandbox

// wechatRoutes registers the wechat protocol's endpoints. (To be written.)
func (s *Sandbox) wechatRoutes() {}
