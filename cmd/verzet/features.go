package main

// features lists the parts of serve in start order. Each feature keeps its
// code, settings and routes in its own file (ivr.go, twilio.go, …).
func features() []feature {
	return []feature{
		ivrFeature(),
		twilioFeature(),
		apiFeature(),
		uiFeature(),
		ariFeature(),
	}
}
