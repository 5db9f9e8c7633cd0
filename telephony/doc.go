// Package telephony holds the provider adapters that drive the ivr dialogue:
// telephony/twilio (webhooks and TwiML) and telephony/ari (Asterisk REST
// Interface). Provider types stop at the adapter boundary; adapters never
// import each other or a concrete store.
package telephony
