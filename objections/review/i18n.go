package review

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/verzet/verzet/objections"
)

// Languages of the interface; the first is the fallback.
var languages = []string{"en", "nl"}

// msg is one interface text in each language.
type msg struct{ en, nl string }

// messages are the interface texts. Arguments follow fmt.
var messages = map[string]msg{
	"lang.switch":    {"Nederlands", "English"},
	"lang.name":      {"English", "Nederlands"},
	"nav.label":      {"Main", "Hoofdmenu"},
	"nav.skip":       {"Skip to content", "Naar de inhoud"},
	"nav.objections": {"Objections", "Bezwaren"},
	"nav.dashboard":  {"Dashboard", "Dashboard"},
	"nav.audit":      {"Audit log", "Auditlog"},
	"nav.users":      {"Users", "Gebruikers"},
	"nav.signout":    {"Sign out", "Uitloggen"},
	"nav.account":    {"Change your password", "Uw wachtwoord wijzigen"},
	"foot.times": {"Times are Europe/Amsterdam. Objections take effect the moment they are recorded.",
		"Tijden in Europe/Amsterdam. Een bezwaar geldt vanaf het moment dat het is vastgelegd."},

	"role.supervisor": {"supervisor", "supervisor"},
	"role.admin":      {"admin", "beheerder"},

	"error.title":       {"Something is not right", "Er klopt iets niet"},
	"error.notFound":    {"This page or objection does not exist.", "Deze pagina of dit bezwaar bestaat niet."},
	"error.crossOrigin": {"This request came from another site and was refused.", "Dit verzoek kwam van een andere site en is geweigerd."},
	"error.csrf": {"This form has expired or did not come from verzet. Go back, reload the page and try again.",
		"Dit formulier is verlopen of kwam niet van verzet. Ga terug, laad de pagina opnieuw en probeer het nog eens."},
	"error.forbidden":   {"Your role may not do this.", "Uw rol mag dit niet."},
	"error.agencyVoid":  {"Only the organisation this objection was recorded for may void it: you see it because your agency made the call.", "Alleen de organisatie waarvoor dit bezwaar is vastgelegd, kan het intrekken: u ziet het omdat uw bureau het gesprek voerde."},
	"error.unavailable": {"The register cannot be reached just now. Try again in a minute.", "Het register is nu niet bereikbaar. Probeer het over een minuut opnieuw."},
	"error.internal":    {"Something went wrong on our side. It has been logged.", "Er ging iets mis aan onze kant. Dat is vastgelegd."},
	"error.back":        {"Back to the objections", "Terug naar de bezwaren"},

	"signin.title":   {"Sign in", "Inloggen"},
	"signin.heading": {"Sign in to verzet", "Inloggen bij verzet"},
	"signin.intro": {"The register of objections to telemarketing, and the evidence behind each.",
		"Het register van bezwaren tegen telemarketing, met het bewijs achter elk bezwaar."},
	"signin.name":      {"User name", "Gebruikersnaam"},
	"signin.password":  {"Password", "Wachtwoord"},
	"signin.submit":    {"Sign in", "Inloggen"},
	"signin.failed":    {"Sign-in failed: that user name and password do not match, or sign-in with this name is paused for a few minutes after repeated failed attempts.", "Inloggen mislukt: gebruikersnaam en wachtwoord horen niet bij elkaar, of inloggen met deze naam is na herhaalde mislukte pogingen een paar minuten gepauzeerd."},
	"signin.signedOut": {"You have signed out.", "U bent uitgelogd."},
	"signin.help":      {"No account yet? Ask an admin of verzet to make one for you.", "Nog geen account? Vraag een beheerder van verzet er een voor u te maken."},

	"password.title":        {"Change password", "Wachtwoord wijzigen"},
	"password.forced":       {"Choose your own password before you go on.", "Kies eerst uw eigen wachtwoord."},
	"password.current":      {"Current password", "Huidig wachtwoord"},
	"password.new":          {"New password", "Nieuw wachtwoord"},
	"password.confirm":      {"New password again", "Nieuw wachtwoord nogmaals"},
	"password.hint":         {"At least %d characters. A few unrelated words make a good one.", "Minstens %d tekens. Een paar losse woorden werkt goed."},
	"password.submit":       {"Change password", "Wachtwoord wijzigen"},
	"password.done":         {"Your password has been changed. Other browsers have been signed out.", "Uw wachtwoord is gewijzigd. Andere browsers zijn uitgelogd."},
	"password.wrongCurrent": {"The current password is not right.", "Het huidige wachtwoord klopt niet."},
	"password.mismatch":     {"The two new passwords differ.", "De twee nieuwe wachtwoorden verschillen."},
	"password.same":         {"The new password is the same as the current one.", "Het nieuwe wachtwoord is gelijk aan het huidige."},
	"password.rules":        {"A password needs at least %d characters, at most %d bytes, and must not be your user name.", "Een wachtwoord heeft minstens %d tekens, hoogstens %d bytes, en is niet uw gebruikersnaam."},

	"list.title":      {"Objections", "Bezwaren"},
	"list.search":     {"Phone number", "Telefoonnummer"},
	"list.searchHint": {"Any format: 06 1234 5678, +31 6 12345678, 0031…", "Elk formaat: 06 1234 5678, +31 6 12345678, 0031…"},
	"list.org":        {"Organisation", "Organisatie"},
	"list.agency":     {"Agency", "Bureau"},
	"list.anyOrg":     {"All", "Alle"},
	"list.campaign":   {"Campaign", "Campagne"},
	"list.source":     {"Source", "Bron"},
	"list.anySource":  {"All", "Alle"},
	"list.status":     {"Status", "Status"},
	"list.anyStatus":  {"All", "Alle"},
	"list.from":       {"From", "Van"},
	"list.to":         {"To", "Tot en met"},
	"list.apply":      {"Search", "Zoeken"},
	"list.reset":      {"Clear filters", "Filters wissen"},
	"list.export":     {"Export CSV", "CSV exporteren"},
	"list.exportHint": {"Exports every objection of this filter.", "Exporteert alle bezwaren van dit filter."},
	"list.count":      {"%s–%s of %s", "%s–%s van %s"},
	"list.none":       {"No objections match this filter.", "Geen bezwaren bij dit filter."},
	"list.noneYet":    {"No objections recorded yet.", "Nog geen bezwaren vastgelegd."},
	"list.searched":   {"Searching for %s (%s)", "Gezocht op %s (%s)"},
	"list.received":   {"Received", "Ontvangen"},
	"list.number":     {"Number", "Nummer"},
	"list.prev":       {"Newer", "Nieuwere"},
	"list.next":       {"Older", "Oudere"},
	"list.paging":     {"Pages", "Pagina's"},
	"list.results":    {"Results", "Resultaten"},
	"list.noNumber":   {"number unknown", "nummer onbekend"},

	"search.endingIn":            {"ending in %s", "eindigt op %s"},
	"search.startingWith":        {"starting with %s", "begint met %s"},
	"search.candidates.ending":   {"Numbers ending in %s", "Nummers die eindigen op %s"},
	"search.candidates.starting": {"Numbers starting with %s", "Nummers die beginnen met %s"},
	"search.choose":              {"Choose the number you mean (%d found, at most %d shown).", "Kies het nummer dat u bedoelt (%d gevonden, hoogstens %d getoond)."},
	"search.none.ending":         {"No number you can see ends in %s.", "Geen nummer dat u kunt zien eindigt op %s."},
	"search.none.starting":       {"No number you can see starts with %s.", "Geen nummer dat u kunt zien begint met %s."},
	"filter.ambiguous":           {"“%s” is a part of several numbers: search first and choose one.", "“%s” is een deel van meerdere nummers: zoek eerst en kies er een."},

	"filter.badNumber": {"“%s” is not a phone number verzet can read.", "“%s” is geen telefoonnummer dat verzet kan lezen."},
	"filter.badSource": {"“%s” is not a known source.", "“%s” is geen bekende bron."},
	"filter.badStatus": {"“%s” is not a known status.", "“%s” is geen bekende status."},
	"filter.badDate":   {"“%s” is not a date (YYYY-MM-DD).", "“%s” is geen datum (JJJJ-MM-DD)."},
	"filter.badRange":  {"The range %s ends before it starts.", "De periode %s eindigt voor het begin."},

	"status.active":         {"active", "actief"},
	"status.voided":         {"voided", "ingetrokken"},
	"status.pending_number": {"number pending", "nummer onbekend"},

	"source.ivr-twilio":    {"IVR (Twilio)", "IVR (Twilio)"},
	"source.ivr-ari":       {"IVR (Asterisk)", "IVR (Asterisk)"},
	"source.agent":         {"agent", "medewerker"},
	"source.callback-line": {"call-back line", "terugbellijn"},
	"source.email":         {"e-mail", "e-mail"},
	"source.letter":        {"letter", "brief"},
	"source.web":           {"web form", "webformulier"},
	"source.api":           {"API", "API"},
	"source.import":        {"import", "import"},

	"outcome.objected":             {"objected", "bezwaar gemaakt"},
	"outcome.declined":             {"declined", "afgeslagen"},
	"outcome.no_input":             {"no key pressed", "geen toets"},
	"outcome.invalid_input":        {"invalid key", "ongeldige toets"},
	"outcome.hangup_during_prompt": {"hung up during the prompt", "opgehangen tijdens de gesproken tekst"},
	"outcome.in_progress":          {"in progress", "nog bezig"},
	"outcome.interrupted":          {"interrupted", "onderbroken"},
	"outcome.error":                {"error", "fout"},
	"endedBy.caller":               {"the caller", "de beller"},
	"endedBy.system":               {"verzet", "verzet"},
	"endedBy.provider":             {"the provider", "de provider"},

	"detail.title":     {"Objection", "Bezwaar"},
	"detail.back":      {"All objections", "Alle bezwaren"},
	"detail.received":  {"Received %s", "Ontvangen %s"},
	"detail.facts":     {"Record", "Vastlegging"},
	"detail.evidence":  {"Evidence timeline", "Tijdlijn van het bewijs"},
	"detail.noOffer":   {"No call belongs to this objection: it did not come from a call verzet handled (staff member, letter, e-mail, another system).", "Bij dit bezwaar hoort geen gesprek: het kwam niet uit een gesprek dat verzet afhandelde (medewerker, brief, e-mail, ander systeem)."},
	"detail.events":    {"Event log", "Logboek"},
	"detail.eventHelp": {"Every objection, void and call is written to an append-only log; each entry carries the hash of the one before it, so nothing can be changed unseen. The operator checks the whole log with verzet verify.", "Elk bezwaar, elke intrekking en elk gesprek komt in een logboek waaraan alleen kan worden toegevoegd; elke regel draagt de hash van de vorige, zodat niets ongemerkt kan veranderen. De beheerder controleert het hele logboek met verzet verify."},
	"detail.id":        {"Objection id", "Bezwaar-id"},
	"detail.number":    {"Number", "Nummer"},
	"detail.raw":       {"as received: %s", "zoals ontvangen: %s"},
	"detail.person":    {"Person id", "Persoon-id"},
	"detail.org":       {"Organisation", "Organisatie"},
	"detail.agency":    {"Agency (made the call)", "Bureau (voerde het gesprek)"},
	"detail.via":       {"called by %s", "gebeld door %s"},
	"detail.campaign":  {"Campaign", "Campagne"},
	"detail.source":    {"Source", "Bron"},
	"detail.call":      {"Provider and call", "Provider en gesprek"},
	"detail.dialer":    {"Dialer call", "Dialer-gesprek"},
	"detail.lead":      {"Lead", "Lead"},
	"detail.agent":     {"Agent", "Medewerker"},
	"detail.actor":     {"Recorded by", "Vastgelegd door"},
	"detail.note":      {"Note", "Notitie"},
	"detail.offer":     {"Call id", "Gesprek-id"},
	"detail.presented": {"Number shown", "Getoond nummer"},
	"detail.hash":      {"Hash of the spoken text", "Hash van de gesproken tekst"},
	"detail.void":      {"Void this objection…", "Dit bezwaar intrekken…"},
	"detail.voided":    {"The objection has been voided. The void is in the event log with your name and reason.", "Het bezwaar is ingetrokken. Dat staat in het logboek met uw naam en reden."},
	"detail.voidedBy":  {"Voided %s by %s", "Ingetrokken %s door %s"},
	"detail.voidLabel": {"Void", "Intrekking"},
	"detail.seq":       {"Seq", "Nr."},
	"detail.kind":      {"Event", "Gebeurtenis"},
	"detail.at":        {"Time", "Tijd"},
	"detail.evhash":    {"Hash", "Hash"},

	"agency.unlisted":      {"Agency not listed by the advertiser", "Bureau niet gemachtigd door de adverteerder"},
	"agency.unlistedShort": {"not listed", "niet gemachtigd"},
	"agency.unlistedHelp": {"When this objection was recorded, %s did not list %s among the agencies that may call for it. The objection counts all the same: a caller's objection is never refused.",
		"Toen dit bezwaar werd vastgelegd, stond %[2]s niet bij de bureaus die voor %[1]s mogen bellen. Het bezwaar geldt evengoed: een bezwaar van een gebelde wordt nooit geweigerd."},

	"stops.title":   {"Dial attempts stopped", "Tegengehouden belpogingen"},
	"stops.help":    {"Every check a dialer made before calling that this objection blocked, as logged: the evidence that it was honoured.", "Elke controle die een dialer vóór het bellen deed en die dit bezwaar blokkeerde, zoals vastgelegd: het bewijs dat het is nageleefd."},
	"stops.count":   {"Stopped", "Tegengehouden"},
	"stops.one":     {"1 dial attempt", "1 belpoging"},
	"stops.many":    {"%s dial attempts", "%s belpogingen"},
	"stops.atLeast": {"at least %s dial attempts (counting stops there)", "minstens %s belpogingen (verder wordt niet geteld)"},
	"stops.first":   {"First stopped", "Eerste tegengehouden"},
	"stops.after":   {"%s after receipt", "%s na ontvangst"},
	"stops.newest":  {"The newest %d:", "De nieuwste %d:"},
	"stops.none":    {"No dial attempt stopped yet.", "Nog geen belpoging tegengehouden."},
	"stops.noneHelp": {"No dial-time check has been blocked by this objection so far: nobody has tried to call since it was recorded, or the dialer did not check first.",
		"Nog geen belcontrole is door dit bezwaar geblokkeerd: sinds de vastlegging heeft niemand geprobeerd te bellen, of de dialer controleerde niet vooraf."},
	"stops.at":      {"Time", "Tijd"},
	"stops.reasons": {"Reasons", "Redenen"},
	"stops.version": {"List version", "Lijstversie"},
	"stops.token":   {"Asked by", "Gevraagd door"},

	"tl.offer":          {"Right to object offered", "Recht van bezwaar aangeboden"},
	"tl.prompt":         {"language %s", "taal %s"},
	"tl.played":         {"%s of the spoken text played", "%s van de gesproken tekst afgespeeld"},
	"tl.bargeIn":        {"key pressed during the spoken text", "toets tijdens de gesproken tekst"},
	"tl.textVerified":   {"The words of this version of the spoken text; they match what was recorded with the call.", "De woorden van deze versie van de gesproken tekst; ze kloppen met wat bij het gesprek is vastgelegd."},
	"tl.textUnverified": {"The words of this version of the spoken text; what was recorded with the call differs (another organisation name or keys).", "De woorden van deze versie van de gesproken tekst; wat bij het gesprek is vastgelegd wijkt af (andere organisatienaam of toetsen)."},
	"tl.textUnknown":    {"This version of the spoken text is not in this release of verzet; what was recorded with the call identifies it.", "Deze versie van de gesproken tekst zit niet in deze versie van verzet; wat bij het gesprek is vastgelegd identificeert haar."},
	"tl.announced":      {"The agent announced the option to object", "De medewerker heeft de mogelijkheid van bezwaar aangekondigd"},
	"tl.key":            {"Key %s pressed", "Toets %s ingedrukt"},
	"tl.keyMode":        {"detected as %s", "herkend via %s"},
	"tl.ended":          {"Call ended", "Gesprek beëindigd"},
	"tl.endedBy":        {"ended by %s", "beëindigd door %s"},
	"tl.recorded":       {"Objection recorded — in force from this moment", "Bezwaar vastgelegd — geldt vanaf dit moment"},
	"tl.via":            {"via %s, by %s", "via %s, door %s"},
	"tl.event":          {"entry %d of the event log", "regel %d van het logboek"},
	"tl.voided":         {"Voided by %s", "Ingetrokken door %s"},

	"void.title":      {"Void objection", "Bezwaar intrekken"},
	"void.heading":    {"Void this objection?", "Dit bezwaar intrekken?"},
	"void.explain":    {"After a void, %s may be called again by %s on any other basis it has. The objection itself stays in the register, with your name, the time and your reason. This cannot be undone; a new objection can always be recorded.", "Na intrekking mag %s weer gebeld worden door %s op een andere grondslag die er is. Het bezwaar zelf blijft in het register staan, met uw naam, het tijdstip en uw reden. Dit kan niet ongedaan worden gemaakt; een nieuw bezwaar kan altijd worden vastgelegd."},
	"void.reason":     {"Reason (required)", "Reden (verplicht)"},
	"void.reasonHint": {"For example: recorded on the wrong number, confirmed by the customer on 3 March.", "Bijvoorbeeld: op het verkeerde nummer vastgelegd, door de klant bevestigd op 3 maart."},
	"void.submit":     {"Void objection", "Bezwaar intrekken"},
	"void.cancel":     {"Cancel", "Annuleren"},
	"void.needReason": {"Give a reason: a void without one is not accepted.", "Geef een reden: intrekken zonder reden kan niet."},
	"void.tooLong":    {"The reason is longer than 2000 characters.", "De reden is langer dan 2000 tekens."},

	"dash.seeCalls":           {"See the calls", "Bekijk de gesprekken"},
	"dash.title":              {"Dashboard", "Dashboard"},
	"dash.range":              {"Range", "Periode"},
	"dash.show":               {"Show", "Tonen"},
	"dash.tooLong":            {"Choose a range of at most %d days.", "Kies een periode van hoogstens %d dagen."},
	"dash.objections":         {"Objections", "Bezwaren"},
	"dash.offers":             {"Offers to object", "Belaanbod"},
	"dash.rate":               {"Objection rate", "Bezwaarpercentage"},
	"dash.rateHelp":           {"Offers to object that ended in an objection, of all offers to object.", "Gesprekken die in een bezwaar eindigden, van alle gesprekken met het aanbod om bezwaar te maken."},
	"dash.voided":             {"Voided", "Ingetrokken"},
	"dash.voidedHelp":         {"Of the objections in this range.", "Van de bezwaren in deze periode."},
	"dash.objectionsHelp":     {"Recorded through any channel.", "Via elk kanaal vastgelegd."},
	"dash.offersHelp":         {"Calls in which the right to object was offered.", "Gesprekken waarin het aanbod om bezwaar te maken is gedaan."},
	"dash.perDay":             {"Offers to object and objections per day", "Belaanbod en bezwaren per dag"},
	"dash.ratePerDay":         {"Objection rate per day", "Bezwaarpercentage per dag"},
	"dash.perCampaign":        {"Per campaign", "Per campagne"},
	"dash.nothing":            {"Nothing recorded in this range.", "Niets vastgelegd in deze periode."},
	"dash.noOffers":           {"No offers to object in this range.", "Geen belaanbod in deze periode."},
	"dash.offersOn":           {"%s offers to object on %s", "%s gesprekken met belaanbod op %s"},
	"dash.objectionsOn":       {"%s objections on %s", "%s bezwaren op %s"},
	"dash.rateOn":             {"%s on %s (%s of %s offers to object)", "%s op %s (%s van %s gesprekken met belaanbod)"},
	"dash.noCampaign":         {"(no campaign)", "(geen campagne)"},
	"dash.campaignOffers":     {"%s: %s offers to object", "%s: %s gesprekken met belaanbod"},
	"dash.campaignObjections": {"%s: %s objections", "%s: %s bezwaren"},
	"dash.table":              {"Show the figures", "Toon de cijfers"},
	"dash.day":                {"Day", "Dag"},
	"dash.campaign":           {"Campaign", "Campagne"},
	"dash.objected":           {"Objected in call", "Bezwaar in gesprek"},

	"checks.title":           {"Dial-time checks", "Belcontroles"},
	"checks.intro":           {"Every check a dialer made before calling, for this organisation; the campaign filter does not apply.", "Elke controle die een dialer vóór het bellen deed, voor deze organisatie; het campagnefilter geldt hier niet."},
	"checks.notOwn":          {"Dial-time checks are shown only for your own organisations.", "Belcontroles zijn alleen te zien voor uw eigen organisaties."},
	"checks.needOrg":         {"Dial-time checks are counted per organisation: choose one to see them.", "Belcontroles worden per organisatie geteld: kies er een om ze te zien."},
	"checks.checks":          {"Checks", "Controles"},
	"checks.checksHelp":      {"Numbers checked before dialling.", "Nummers gecontroleerd vóór het bellen."},
	"checks.allowed":         {"Allowed", "Toegestaan"},
	"checks.allowedHelp":     {"The number could be called.", "Het nummer mocht gebeld worden."},
	"checks.blocked":         {"Blocked", "Geblokkeerd"},
	"checks.blockedHelp":     {"The number could not be called.", "Het nummer mocht niet gebeld worden."},
	"checks.byObjection":     {"Blocked by an objection", "Geblokkeerd door bezwaar"},
	"checks.byObjectionHelp": {"Objections honoured: calls stopped by an active objection.", "Gehonoreerde bezwaren: gesprekken tegengehouden door een geldend bezwaar."},
	"checks.perDay":          {"Allowed and blocked checks per day", "Toegestane en geblokkeerde controles per dag"},
	"checks.nothing":         {"No checks in this range.", "Geen controles in deze periode."},
	"checks.allowedOn":       {"%s allowed on %s", "%s toegestaan op %s"},
	"checks.blockedOn":       {"%s blocked on %s", "%s geblokkeerd op %s"},
	"checks.byReason":        {"Blocked by reason", "Geblokkeerd per reden"},
	"checks.reason":          {"Reason", "Reden"},
	"checks.count":           {"Blocked", "Geblokkeerd"},

	"record.title":   {"Record an objection", "Bezwaar vastleggen"},
	"record.heading": {"Record an objection", "Bezwaar vastleggen"},
	"record.intro": {"For an objection that reached you by letter, e-mail, phone or in person. It is kept with your name, as evidence, like every objection.",
		"Voor een bezwaar dat per brief, e-mail, telefoon of persoonlijk binnenkwam. Het wordt met uw naam vastgelegd, als bewijs, zoals elk bezwaar."},
	"record.effect": {"The objection takes effect the moment you record it: from then on the number is not called for this organisation. The date of receipt below is kept in the note; it does not backdate the objection.",
		"Het bezwaar geldt vanaf het moment dat u het vastlegt: vanaf dan wordt het nummer voor deze organisatie niet meer gebeld. De ontvangstdatum hieronder komt in de notitie; het bezwaar gaat niet met terugwerkende kracht in."},
	"record.noOrgs":             {"There is no organisation you can record an objection for: an admin sets one up (verzet orgs set) or gives you one.", "Er is geen organisatie waarvoor u een bezwaar kunt vastleggen: een beheerder stelt er een in (verzet orgs set) of geeft u er een."},
	"record.number":             {"Phone number", "Telefoonnummer"},
	"record.numberHint":         {"Any format: 06 1234 5678, +31 6 12345678, 0031…", "Elk formaat: 06 1234 5678, +31 6 12345678, 0031…"},
	"record.chooseOrg":          {"Choose…", "Kies…"},
	"record.channelLabel":       {"Received by", "Binnengekomen per"},
	"record.channelName.letter": {"Letter", "Brief"},
	"record.channelName.email":  {"E-mail", "E-mail"},
	"record.channelName.phone":  {"Phone (the call-back line or customer service)", "Telefoon (terugbellijn of klantenservice)"},
	"record.channelName.person": {"In person, or told to a staff member", "Persoonlijk, of doorgegeven aan een medewerker"},
	"record.channel.letter":     {"by letter", "per brief"},
	"record.channel.email":      {"by e-mail", "per e-mail"},
	"record.channel.phone":      {"by phone", "per telefoon"},
	"record.channel.person":     {"in person", "persoonlijk"},
	"record.received":           {"Date received", "Datum van ontvangst"},
	"record.receivedHint":       {"The date on the letter or e-mail, or of the call. Kept in the note; the objection counts from now.", "De datum van de brief of e-mail, of van het gesprek. Komt in de notitie; het bezwaar geldt vanaf nu."},
	"record.reference":          {"Reference (optional)", "Kenmerk (optioneel)"},
	"record.referenceHint":      {"For example the letter's reference or the ticket number.", "Bijvoorbeeld het kenmerk van de brief of het ticketnummer."},
	"record.person":             {"Person id (optional)", "Persoon-id (optioneel)"},
	"record.personHint":         {"Your customer number for this person: the objection then also covers their other numbers you know under it.", "Uw klantnummer voor deze persoon: het bezwaar geldt dan ook voor de andere nummers die u onder dat nummer kent."},
	"record.note":               {"Note (optional)", "Notitie (optioneel)"},
	"record.submit":             {"Record objection", "Bezwaar vastleggen"},
	"record.needOrg":            {"Choose one of your organisations.", "Kies een van uw organisaties."},
	"record.needChannel":        {"Choose how the objection reached you.", "Kies hoe het bezwaar binnenkwam."},
	"record.needNumber":         {"Give the phone number, or a person id.", "Geef het telefoonnummer, of een persoon-id."},
	"record.future":             {"The date of receipt is after today.", "De ontvangstdatum ligt na vandaag."},
	"record.invalid":            {"This cannot be recorded: %s", "Dit kan niet worden vastgelegd: %s"},
	"record.formUsed":           {"This form was sent before, for another number; that objection stands. Check the details and send this fresh form.", "Dit formulier is al eerder verstuurd, voor een ander nummer; dat bezwaar blijft staan. Controleer de gegevens en verstuur dit nieuwe formulier."},
	"record.noteHead":           {"Received on %s %s", "Ontvangen op %s %s"},
	"record.noteRef":            {"; reference %s", "; kenmerk %s"},

	"detail.recordedNotice": {"Objection recorded. It is in force from %s: the number is not called for this organisation any more.", "Bezwaar vastgelegd. Het geldt vanaf %s: het nummer wordt voor deze organisatie niet meer gebeld."},
	"detail.existingNotice": {"Nothing new was recorded: this number has had an active objection for this organisation since %s, shown here.", "Er is niets nieuws vastgelegd: dit nummer heeft voor deze organisatie al een geldend bezwaar sinds %s, hier getoond."},
	"now.callable":          {"May be called now", "Mag nu gebeld worden"},
	"now.blocked":           {"May not be called now", "Mag nu niet gebeld worden"},
	"now.reasons":           {"what a dialer is told:", "wat een dialer te horen krijgt:"},

	"reason.objection":                   {"objection", "bezwaar"},
	"reason.consent_voided_by_objection": {"consent older than an objection", "toestemming ouder dan een bezwaar"},
	"reason.no_basis":                    {"no basis (neither consent nor customer relation)", "geen grondslag (geen toestemming of klantrelatie)"},
	"reason.relation_expired":            {"customer relation expired", "klantrelatie verlopen"},
	"reason.sector_no_relation_basis":    {"sector lost the customer-relation basis", "sector heeft geen klantrelatie-grondslag meer"},
	"reason.consent_withdrawn":           {"consent withdrawn", "toestemming ingetrokken"},
	"reason.consent":                     {"consent", "toestemming"},
	"reason.customer_relation":           {"customer relation", "klantrelatie"},
	"reason.must_offer_objection":        {"must offer the right to object", "moet het recht van bezwaar aanbieden"},

	"calls.title":       {"Calls", "Gesprekken"},
	"calls.intro":       {"Every call in which the right to object was offered, whatever came of it, newest first.", "Elk gesprek waarin het recht van bezwaar is aangeboden, wat er ook uit kwam, nieuwste eerst."},
	"calls.outcome":     {"Outcome", "Uitkomst"},
	"calls.agent":       {"Agent", "Medewerker"},
	"calls.started":     {"Started", "Begonnen"},
	"calls.keys":        {"Keys", "Toetsen"},
	"calls.evidence":    {"Evidence", "Bewijs"},
	"calls.toObjection": {"Objection", "Bezwaar"},
	"calls.toCall":      {"Call", "Gesprek"},
	"calls.none":        {"No calls match this filter.", "Geen gesprekken bij dit filter."},
	"calls.noneYet":     {"No calls recorded yet.", "Nog geen gesprekken vastgelegd."},
	"calls.back":        {"All calls", "Alle gesprekken"},
	"call.title":        {"Call", "Gesprek"},
	"call.started":      {"started %s", "begonnen %s"},
	"call.toObjection":  {"The objection of this call", "Het bezwaar uit dit gesprek"},
	"call.evidence":     {"What happened in the call", "Wat er in het gesprek gebeurde"},
	"call.facts":        {"Call", "Gesprek"},
	"call.announced":    {"Announced by the agent", "Aangekondigd"},
	"call.ended":        {"Ended", "Beëindigd"},
	"filter.badOutcome": {"“%s” is not a known outcome.", "“%s” is geen bekende uitkomst."},
	"yes":               {"yes", "ja"},
	"no":                {"no", "nee"},

	"export.excel":         {"Export for Excel (;)", "Exporteren voor Excel"},
	"export.excelOther":    {"or for Excel set to Dutch (;)", "of voor Excel in het Nederlands (;)"},
	"export.csv":           {"Export CSV", "CSV exporteren"},
	"export.csvOther":      {"or as plain CSV (,)", "of als gewone CSV (,)"},
	"export.badFormat":     {"“%s” is not an export format (excel or csv).", "“%s” is geen exportformaat (excel of csv)."},
	"csv.id":               {"Id", "Id"},
	"csv.received_at":      {"Received (Europe/Amsterdam)", "Ontvangen (Europe/Amsterdam)"},
	"csv.number":           {"Number", "Nummer"},
	"csv.number_e164":      {"Number (E.164)", "Nummer (E.164)"},
	"csv.raw_number":       {"Number as given", "Nummer zoals opgegeven"},
	"csv.org":              {"Organisation", "Organisatie"},
	"csv.agency":           {"Agency", "Bureau"},
	"csv.agency_unlisted":  {"Agency not listed", "Bureau niet gemachtigd"},
	"csv.campaign_ref":     {"Campaign", "Campagne"},
	"csv.source":           {"Source", "Bron"},
	"csv.status":           {"Status", "Status"},
	"csv.voided_at":        {"Voided (Europe/Amsterdam)", "Ingetrokken (Europe/Amsterdam)"},
	"csv.voided_by":        {"Voided by", "Ingetrokken door"},
	"csv.void_reason":      {"Reason for the void", "Reden van intrekking"},
	"csv.person_id":        {"Person id", "Persoon-id"},
	"csv.note":             {"Note", "Notitie"},
	"csv.actor":            {"Recorded by", "Vastgelegd door"},
	"csv.provider":         {"Provider", "Provider"},
	"csv.call_ref":         {"Call reference", "Gespreksreferentie"},
	"csv.dialer_call_ref":  {"Dialer call", "Dialer-gesprek"},
	"csv.lead_ref":         {"Lead", "Lead"},
	"csv.agent_ref":        {"Agent", "Medewerker"},
	"csv.offer_id":         {"Call id", "Gesprek-id"},
	"csv.started_at":       {"Started (Europe/Amsterdam)", "Begonnen (Europe/Amsterdam)"},
	"csv.ended_at":         {"Ended (Europe/Amsterdam)", "Beëindigd (Europe/Amsterdam)"},
	"csv.outcome":          {"Outcome", "Uitkomst"},
	"csv.keys":             {"Keys pressed", "Ingedrukte toetsen"},
	"csv.played":           {"Spoken text played", "Gesproken tekst afgespeeld"},
	"csv.barge_in":         {"Key during the spoken text", "Toets tijdens de gesproken tekst"},
	"csv.announced":        {"Agent announced the option", "Medewerker kondigde de mogelijkheid aan"},
	"csv.ended_by":         {"Ended by", "Beëindigd door"},
	"csv.language":         {"Language", "Taal"},
	"csv.prompt_id":        {"Spoken text", "Gesproken tekst"},
	"csv.prompt_version":   {"Version of the spoken text", "Versie van de gesproken tekst"},
	"csv.objection_id":     {"Objection id", "Bezwaar-id"},
	"csv.presented_number": {"Number shown", "Getoond nummer"},
	"csv.prompt_hash":      {"Hash of the spoken text", "Hash van de gesproken tekst"},

	"event.objection.recorded": {"objection recorded", "bezwaar vastgelegd"},
	"event.objection.voided":   {"objection withdrawn", "bezwaar ingetrokken"},
	"event.offer.recorded":     {"call recorded", "gesprek vastgelegd"},
	"detail.hashes":            {"Hashes of the chain", "Hashes van de keten"},
	"detail.evtype":            {"Type", "Type"},
	"detail.prevhash":          {"Hash of the event before", "Hash van de vorige gebeurtenis"},
	"detail.technical":         {"Technical details", "Technische gegevens"},
	"detail.promptID":          {"Spoken text: id, version, language", "Gesproken tekst: id, versie, taal"},
	"nav.calls":                {"Calls", "Gesprekken"},

	"evidence.title":          {"Evidence pack", "Bewijsdossier"},
	"evidence.intro":          {"Everything one organisation holds on a number, and why it called: to print, or save as a PDF, for the consumer or the regulator.", "Alles wat een organisatie over een nummer vastlegt, en waarom er gebeld werd: om af te drukken, of als pdf te bewaren, voor de consument of de toezichthouder."},
	"evidence.lang":           {"Language of the pack", "Taal van het dossier"},
	"evidence.show":           {"Show the pack", "Dossier tonen"},
	"evidence.needNumber":     {"Give the phone number.", "Geef het telefoonnummer."},
	"evidence.printHint":      {"To send it: print this page (Ctrl+P or ⌘P) and choose “Save as PDF”; the navigation is left out.", "Versturen: druk deze pagina af (Ctrl+P of ⌘P) en kies „Opslaan als pdf”; de navigatie valt weg."},
	"evidence.otherLang":      {"this pack in Dutch", "dit dossier in het Engels"},
	"evidence.kicker":         {"Evidence pack — right to object to telemarketing", "Bewijsdossier — recht van bezwaar tegen telemarketing"},
	"evidence.person":         {"person %s", "persoon %s"},
	"evidence.sector":         {"Sector", "Sector"},
	"evidence.term":           {"customer relation counts for %d months", "klantrelatie telt %d maanden"},
	"evidence.generated":      {"Made", "Opgemaakt"},
	"evidence.by":             {"by %s, with verzet", "door %s, met verzet"},
	"evidence.times":          {"Times are Europe/Amsterdam. An objection takes effect the moment it is recorded.", "Tijden in Europe/Amsterdam. Een bezwaar geldt vanaf het moment dat het is vastgelegd."},
	"evidence.decision":       {"May this number be called now?", "Mag dit nummer nu gebeld worden?"},
	"evidence.basis":          {"basis:", "grondslag:"},
	"evidence.bases":          {"Bases held", "Grondslagen"},
	"evidence.consents":       {"Consents", "Toestemmingen"},
	"evidence.relations":      {"Customer relations", "Klantrelaties"},
	"evidence.channel":        {"For", "Voor"},
	"evidence.given":          {"Given", "Gegeven"},
	"evidence.withdrawn":      {"Withdrawn", "Ingetrokken"},
	"evidence.evidenceRef":    {"Evidence", "Bewijs"},
	"evidence.kind":           {"Kind", "Soort"},
	"evidence.peildatum":      {"Reference date", "Peildatum"},
	"evidence.none":           {"None.", "Geen."},
	"evidence.objections":     {"Objections", "Bezwaren"},
	"evidence.objectionOf":    {"Objection of %s", "Bezwaar van %s"},
	"evidence.recordedBy":     {"recorded by %s", "vastgelegd door %s"},
	"evidence.asGiven":        {"Number as given", "Nummer zoals opgegeven"},
	"evidence.noStop":         {"none logged", "geen vastgelegd"},
	"evidence.noLog":          {"dial-time checks are not logged on this installation", "belcontroles worden op deze installatie niet vastgelegd"},
	"evidence.calls":          {"Calls offering the right to object", "Belaanbod: gesprekken met het aanbod om bezwaar te maken"},
	"evidence.truncated":      {"the first only", "alleen de eerste"},
	"evidence.callOf":         {"Call of %s", "Gesprek van %s"},
	"evidence.words":          {"Words played", "Gesproken tekst"},
	"evidence.played":         {"%s played, language %s", "%s afgespeeld, taal %s"},
	"evidence.keyAt":          {"%s at %s", "%s om %s"},
	"evidence.noKey":          {"no key pressed", "geen toets ingedrukt"},
	"evidence.stops":          {"Dial attempts stopped", "Tegengehouden belpogingen"},
	"evidence.newestOnly":     {"the newest only", "alleen de nieuwste"},
	"evidence.stopsHelp":      {"Every check a dialer made on this number that was refused, with the version of the list it was decided on: the evidence that an objection was honoured. Allowed checks are only counted.", "Elke controle die een dialer op dit nummer deed en die werd geweigerd, met de versie van de lijst waarop besloten werd: het bewijs dat een bezwaar is nageleefd. Toegestane controles worden alleen geteld."},
	"evidence.result":         {"Result", "Uitkomst"},
	"evidence.allowed":        {"allowed", "toegestaan"},
	"evidence.stopped":        {"stopped", "tegengehouden"},
	"evidence.askedBy":        {"Asked by", "Gevraagd door"},
	"evidence.chain":          {"Check of the records", "Controle van de vastlegging"},
	"chain.ok":                {"Intact: all %d events of these records match their contents; those of the objections and voids (%d) follow on from the event before them.", "Intact: alle %d gebeurtenissen van deze vastleggingen kloppen met hun inhoud; die van de bezwaren en intrekkingen (%d) sluiten aan op de gebeurtenis ervoor."},
	"chain.problems":          {"%d problems found in the records:", "%d problemen gevonden in de vastlegging:"},
	"chain.missing":           {"record %s has no event in the log", "vastlegging %s heeft geen gebeurtenis in het logboek"},
	"chain.edited":            {"event %d does not match its contents (edited)", "gebeurtenis %d klopt niet met haar inhoud (gewijzigd)"},
	"chain.differs":           {"event %d describes another record than the one shown", "gebeurtenis %d beschrijft een andere vastlegging dan de getoonde"},
	"chain.gap":               {"the event before event %d is missing", "de gebeurtenis vóór gebeurtenis %d ontbreekt"},
	"chain.unlinked":          {"event %d does not follow on from the event before it", "gebeurtenis %d sluit niet aan op de gebeurtenis ervoor"},
	"chain.limited":           {"Only the first 200 records of this pack were checked.", "Alleen de eerste 200 vastleggingen van dit dossier zijn gecontroleerd."},
	"chain.help":              {"Every objection, void and call is written to an append-only log in which each event carries the hash of the one before it, so that no record can be changed, removed or put out of order unseen. The operator checks the whole log with verzet verify.", "Elk bezwaar, elke intrekking en elk gesprek wordt vastgelegd in een logboek waaraan alleen kan worden toegevoegd; elke gebeurtenis draagt de hash van de vorige, zodat geen vastlegging ongemerkt kan worden gewijzigd, verwijderd of verschoven. De beheerder controleert het hele logboek met verzet verify."},
	"detail.pack":             {"Evidence pack of this number…", "Bewijsdossier van dit nummer…"},
	"nav.evidence":            {"Evidence pack", "Bewijsdossier"},
	"sector.charity":          {"charity", "goed doel"},
	"sector.lottery":          {"charity lottery", "goededoelenloterij"},
	"sector.press":            {"press", "pers"},
	"sector.other":            {"other", "overig"},
	"channel.phone":           {"phone", "telefoon"},
	"channel.email":           {"e-mail", "e-mail"},
	"channel.sms":             {"text message", "sms"},
	"relation.purchase":       {"purchase", "aankoop"},
	"relation.donation":       {"donation", "donatie"},
	"relation.volunteer":      {"volunteer", "vrijwilliger"},
	"relation.manifestation":  {"event", "manifestatie"},
	"relation.service":        {"service", "dienst"},
	"basis.consent":           {"consent", "toestemming"},
	"basis.customer-relation": {"customer relation", "klantrelatie"},
	"basis.none":              {"none", "geen"},

	"users.title":               {"Users", "Gebruikers"},
	"users.intro":               {"Who may sign in to verzet, with what role and for which organisations.", "Wie bij verzet mag inloggen, met welke rol en voor welke organisaties."},
	"users.new":                 {"New user", "Nieuwe gebruiker"},
	"users.newIntro":            {"verzet makes a one-time password, shown once on the next page; the user chooses their own at the first sign-in.", "verzet maakt een eenmalig wachtwoord, dat één keer op de volgende pagina staat; bij de eerste keer inloggen kiest de gebruiker een eigen wachtwoord."},
	"users.name":                {"User name", "Gebruikersnaam"},
	"users.nameHint":            {"Lower-case letters, digits, '.', '_', '@' and '-'; for example j.jansen.", "Kleine letters, cijfers, '.', '_', '@' en '-'; bijvoorbeeld j.jansen."},
	"users.role":                {"Role", "Rol"},
	"users.orgs":                {"Organisations", "Organisaties"},
	"users.orgsHint":            {"Tick the organisations this user may see. None ticked: every organisation.", "Vink de organisaties aan die deze gebruiker mag zien. Niets aangevinkt: alle organisaties."},
	"users.orgsHintScoped":      {"Tick the organisations this user may see; you can give only your own. None ticked: all of yours.", "Vink de organisaties aan die deze gebruiker mag zien; u kunt alleen uw eigen organisaties geven. Niets aangevinkt: al de uwe."},
	"users.noOrgs":              {"No organisations set up yet.", "Nog geen organisaties ingesteld."},
	"users.allOrgs":             {"every organisation", "alle organisaties"},
	"users.state":               {"State", "Status"},
	"users.lastSignIn":          {"Last sign-in", "Laatst ingelogd"},
	"users.created":             {"Created", "Aangemaakt"},
	"users.by":                  {"by %s", "door %s"},
	"users.never":               {"never", "nooit"},
	"users.you":                 {"you", "u"},
	"users.none":                {"No users you manage.", "Geen gebruikers die u beheert."},
	"users.create":              {"Create user", "Gebruiker aanmaken"},
	"users.badName":             {"Choose a user name of lower-case letters, digits, '.', '_', '@' and '-', starting with a letter or digit, at most 64 characters.", "Kies een gebruikersnaam van kleine letters, cijfers, '.', '_', '@' en '-', beginnend met een letter of cijfer, hoogstens 64 tekens."},
	"users.badRole":             {"Choose a role: supervisor or admin.", "Kies een rol: supervisor of beheerder."},
	"users.badOrg":              {"You can give only organisations that exist and that you have yourself.", "U kunt alleen organisaties geven die bestaan en die u zelf hebt."},
	"users.taken":               {"The user name %s is taken.", "De gebruikersnaam %s is al in gebruik."},
	"users.userTitle":           {"User", "Gebruiker"},
	"users.account":             {"Account", "Account"},
	"users.disabledAt":          {"Disabled", "Uitgeschakeld"},
	"users.password":            {"Password", "Wachtwoord"},
	"users.mustChange":          {"to be chosen at the next sign-in", "wordt bij de volgende keer inloggen gekozen"},
	"users.failed":              {"Failed sign-ins in a row", "Mislukte inlogpogingen op rij"},
	"users.lockedUntil":         {"paused until %s", "gepauzeerd tot %s"},
	"users.self":                {"This is your own account: another admin changes its role, organisations or state. Your password you change yourself.", "Dit is uw eigen account: een andere beheerder wijzigt de rol, organisaties of status. Uw wachtwoord wijzigt u zelf."},
	"users.signInSection":       {"Signing in", "Inloggen"},
	"users.reset":               {"Reset password", "Wachtwoord opnieuw instellen"},
	"users.resetHint":           {"Makes a new one-time password and signs the user out everywhere; a pause after failed sign-ins ends.", "Maakt een nieuw eenmalig wachtwoord en logt de gebruiker overal uit; een pauze na mislukte pogingen eindigt."},
	"users.disable":             {"Disable user", "Gebruiker uitschakelen"},
	"users.disableHint":         {"A disabled user cannot sign in and is signed out at once. Nothing they did is removed.", "Een uitgeschakelde gebruiker kan niet inloggen en wordt meteen uitgelogd. Niets van wat hij deed wordt verwijderd."},
	"users.enable":              {"Enable user", "Gebruiker inschakelen"},
	"users.enableHint":          {"The user may sign in again with their password.", "De gebruiker kan weer inloggen met zijn wachtwoord."},
	"users.accessSection":       {"Role and organisations", "Rol en organisaties"},
	"users.save":                {"Save role and organisations", "Rol en organisaties opslaan"},
	"users.done.access":         {"Role and organisations saved. They apply from the user's next page.", "Rol en organisaties opgeslagen. Ze gelden vanaf de volgende pagina die de gebruiker opent."},
	"users.done.disabled":       {"The user is disabled and signed out.", "De gebruiker is uitgeschakeld en uitgelogd."},
	"users.done.enabled":        {"The user is enabled again.", "De gebruiker is weer ingeschakeld."},
	"users.stateActive":         {"active", "actief"},
	"users.stateDisabled":       {"disabled", "uitgeschakeld"},
	"users.stateLocked":         {"paused", "gepauzeerd"},
	"users.stateMustChange":     {"new password pending", "nieuw wachtwoord nodig"},
	"users.roleHelp.supervisor": {"searches, reads and exports the register, records objections received by letter, e-mail or phone", "zoekt, leest en exporteert het register, legt bezwaren vast die per brief, e-mail of telefoon binnenkwamen"},
	"users.roleHelp.admin":      {"also voids objections, manages users and reads the audit log", "trekt ook bezwaren in, beheert gebruikers en leest het auditlog"},
	"users.secretTitle":         {"One-time password", "Eenmalig wachtwoord"},
	"users.createdHeading":      {"User %s created", "Gebruiker %s aangemaakt"},
	"users.resetHeading":        {"New password for %s", "Nieuw wachtwoord voor %s"},
	"users.secretIntro":         {"Give %s this one-time password, in person or by another channel than the user name:", "Geef %s dit eenmalige wachtwoord, persoonlijk of via een ander kanaal dan de gebruikersnaam:"},
	"users.secretOnce":          {"It is shown only now and is not stored in clear. At the first sign-in the user chooses their own password.", "Het staat alleen nu hier en wordt niet leesbaar bewaard. Bij de eerste keer inloggen kiest de gebruiker een eigen wachtwoord."},

	"audit.d.unknownName":     {"unknown user name", "onbekende gebruikersnaam"},
	"audit.d.disabled":        {"the user is disabled", "de gebruiker is uitgeschakeld"},
	"audit.d.firstAdmin":      {"first admin created", "eerste beheerder aangemaakt"},
	"audit.d.firstAdminAgain": {"the unused first admin got a new password", "de ongebruikte eerste beheerder kreeg een nieuw wachtwoord"},
	"audit.d.cliPassword":     {"set on the command line", "ingesteld via de opdrachtregel"},
	"audit.d.allObjections":   {"all objections", "alle bezwaren"},
	"audit.d.allCalls":        {"all calls", "alle gesprekken"},
	"audit.d.pack":            {"evidence pack", "bewijsdossier"},
	"audit.d.list":            {"list", "lijst"},
	"audit.k.number":          {"number", "nummer"},
	"audit.k.org":             {"organisation", "organisatie"},
	"audit.k.campaign":        {"campaign", "campagne"},
	"audit.k.source":          {"source", "bron"},
	"audit.k.status":          {"status", "status"},
	"audit.k.since":           {"from", "vanaf"},
	"audit.k.until":           {"before", "tot"},
	"audit.k.person":          {"person", "persoon"},
	"audit.k.lang":            {"language", "taal"},
	"audit.k.format":          {"format", "formaat"},
	"audit.k.role":            {"role", "rol"},
	"audit.k.orgs":            {"organisations", "organisaties"},
	"audit.k.was_role":        {"role before", "rol was"},
	"audit.k.was_orgs":        {"organisations before", "organisaties waren"},
	"audit.k.reference":       {"reference", "kenmerk"},
	"audit.k.call":            {"call", "gesprek"},
	"audit.k.outcome":         {"outcome", "uitkomst"},
	"audit.k.agent":           {"agent", "medewerker"},
	"audit.k.after":           {"after", "na"},

	"audit.title":     {"Audit log", "Auditlog"},
	"audit.intro":     {"Every sign-in, view of personal data, export, objection recorded by hand, void and change of a user, newest first.", "Elke keer inloggen, inzage in persoonsgegevens, export, handmatig vastgelegd bezwaar, intrekking en wijziging van een gebruiker, nieuwste eerst."},
	"audit.actor":     {"User", "Gebruiker"},
	"audit.action":    {"Action", "Handeling"},
	"audit.anyAction": {"All", "Alle"},
	"audit.subject":   {"About", "Betreft"},
	"audit.detail":    {"Detail", "Details"},
	"audit.remote":    {"From", "Vanaf"},
	"audit.at":        {"Time", "Tijd"},
	"audit.filter":    {"Filter", "Filteren"},
	"audit.none":      {"No entries.", "Geen regels."},
	"audit.older":     {"Older entries", "Oudere regels"},
	"audit.badAction": {"“%s” is not a known action.", "“%s” is geen bekende handeling."},

	"action.sign_in":          {"signed in", "ingelogd"},
	"action.sign_in_failed":   {"sign-in failed", "inloggen mislukt"},
	"action.sign_in_locked":   {"sign-in refused (paused)", "inloggen geweigerd (gepauzeerd)"},
	"action.sign_out":         {"signed out", "uitgelogd"},
	"action.view":             {"viewed", "ingezien"},
	"action.export":           {"exported", "geëxporteerd"},
	"action.void":             {"voided objection", "bezwaar ingetrokken"},
	"action.password_changed": {"changed password", "wachtwoord gewijzigd"},
	"action.user_created":     {"created user", "gebruiker aangemaakt"},
	"action.bootstrap":        {"first admin", "eerste beheerder"},
	"action.user_changed":     {"changed role or organisations", "rol of organisaties gewijzigd"},
	"action.user_disabled":    {"disabled user", "gebruiker uitgeschakeld"},
	"action.user_enabled":     {"enabled user", "gebruiker ingeschakeld"},
	"action.password_reset":   {"reset password", "wachtwoord opnieuw ingesteld"},
	"action.objection":        {"recorded objection", "bezwaar vastgelegd"},
}

var monthsNL = [...]string{"jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"}
var daysNL = [...]string{"zo", "ma", "di", "wo", "do", "vr", "za"}

// lexicon is the interface text of one language.
type lexicon struct {
	Lang string
}

// T returns the text for key, formatted with args; the key itself when
// there is none (a test checks that there always is).
func (l lexicon) T(key string, args ...any) string {
	m, ok := messages[key]
	if !ok {
		return key
	}
	s := m.en
	if l.Lang == "nl" {
		s = m.nl
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// Other is the language the switch offers.
func (l lexicon) Other() string {
	if l.Lang == "nl" {
		return "en"
	}
	return "nl"
}

// Int writes n with thousands separators: 1,234 or 1.234.
func (l lexicon) Int(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	sep := ","
	if l.Lang == "nl" {
		sep = "."
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Percent writes a fraction as a percentage: 12.5% or 12,5%.
func (l lexicon) Percent(v float64, decimals int) string {
	s := strconv.FormatFloat(v*100, 'f', decimals, 64)
	if l.Lang == "nl" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s + "%"
}

// Rate writes the objection rate objected/offers, or a dash when there
// were no offers.
func (l lexicon) Rate(objected, offers int) string {
	v, ok := totals{Objected: objected, Offers: offers}.Rate()
	if !ok {
		return "–"
	}
	return l.Percent(v, 1)
}

// Seconds writes milliseconds as seconds with one decimal.
func (l lexicon) Seconds(ms int64) string {
	s := strconv.FormatFloat(float64(ms)/1000, 'f', 1, 64)
	if l.Lang == "nl" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s + " s"
}

// Latency writes a duration the way a supervisor reads it: "2.04 s",
// "3 min 12 s", "5 h 3 min", "3 d 4 h" (Dutch: "2,04 s", …, "5 u 3 min").
func (l lexicon) Latency(d time.Duration) string {
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	hour, day := "h", "d"
	if l.Lang == "nl" {
		hour = "u"
	}
	switch {
	case d < time.Minute:
		s := strconv.FormatFloat(d.Seconds(), 'f', 2, 64)
		if l.Lang == "nl" {
			s = strings.Replace(s, ".", ",", 1)
		}
		return sign + s + " s"
	case d < time.Hour:
		return fmt.Sprintf("%s%d min %d s", sign, int(d/time.Minute), int(d%time.Minute/time.Second))
	case d < 24*time.Hour:
		return fmt.Sprintf("%s%d %s %d min", sign, int(d/time.Hour), hour, int(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("%s%d %s %d %s", sign, int(d/(24*time.Hour)), day, int(d%(24*time.Hour)/time.Hour), hour)
}

// ShortDate is "2 Mar" or "2 mrt".
func (l lexicon) ShortDate(t time.Time) string {
	t = t.In(objections.Amsterdam())
	if l.Lang == "nl" {
		return fmt.Sprintf("%d %s", t.Day(), monthsNL[t.Month()-1])
	}
	return t.Format("2 Jan")
}

// LongDate is "Mon 2 Mar 2026" or "ma 2 mrt 2026".
func (l lexicon) LongDate(t time.Time) string {
	t = t.In(objections.Amsterdam())
	if l.Lang == "nl" {
		return fmt.Sprintf("%s %d %s %d", daysNL[t.Weekday()], t.Day(), monthsNL[t.Month()-1], t.Year())
	}
	return t.Format("Mon 2 Jan 2006")
}

// DateTime is "2 Mar 2026 10:31:04" in Europe/Amsterdam; empty for the
// zero time.
func (l lexicon) DateTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.In(objections.Amsterdam())
	date := t.Format("2 Jan 2006")
	if l.Lang == "nl" {
		date = fmt.Sprintf("%d %s %d", t.Day(), monthsNL[t.Month()-1], t.Year())
	}
	return date + " " + t.Format("15:04:05")
}

// Precise is DateTime with milliseconds, for the evidence timeline.
func (l lexicon) Precise(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	s := l.DateTime(t) + t.In(objections.Amsterdam()).Format(".000")
	if l.Lang == "nl" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// lexicon picks the request's language: the switch's cookie, then the
// browser's Accept-Language, then English.
func (s *Server) lexicon(r *http.Request) lexicon {
	if c, err := r.Cookie(langCookie); err == nil && known(c.Value) {
		return lexicon{Lang: c.Value}
	}
	return lexicon{Lang: negotiate(r.Header.Get("Accept-Language"))}
}

func known(lang string) bool {
	for _, l := range languages {
		if l == lang {
			return true
		}
	}
	return false
}

// negotiate returns the known language the Accept-Language header rates
// highest ("nl-NL,nl;q=0.9,en;q=0.8" → nl), or the fallback.
func negotiate(header string) string {
	type pref struct {
		lang string
		q    float64
		pos  int
	}
	var prefs []pref
	for i, part := range strings.Split(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		if known(base) && q > 0 {
			prefs = append(prefs, pref{base, q, i})
		}
	}
	if len(prefs) == 0 {
		return languages[0]
	}
	sort.SliceStable(prefs, func(i, j int) bool { return prefs[i].q > prefs[j].q })
	return prefs[0].lang
}

// setLang keeps the chosen language in a cookie and goes back.
func (s *Server) setLang(w http.ResponseWriter, r *http.Request) {
	lang := r.PathValue("lang")
	if !known(lang) {
		s.errorPage(w, r, http.StatusNotFound, "error.notFound")
		return
	}
	s.setCookie(w, r, langCookie, lang, 365*24*time.Hour)
	http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
}

// funcs are the templates' helpers that do not depend on the language.
var funcs = template.FuncMap{
	"objURL":       func(id string) string { return "/ui/objections/" + url.PathEscape(id) },
	"sub":          func(a, b float64) float64 { return a - b },
	"status":       func(o objections.Objection) string { return string(o.Status) },
	"str":          func(v any) string { return fmt.Sprint(v) },
	"stateOf":      stateOf,
	"auditDetail":  auditDetailText,
	"matchOf":      matchOf,
	"candidatesOf": candidatesOf,
	"timelineOf":   timelineOf,
	"eventsOf":     eventsOf,
	"exportOf":     exportOf,
	"auditLink":    auditLink,
	"orgSelectOf":  orgSelectOf,
	"searchedOf":   searchedOf,
	"pagerOf":      pagerOf,
	"choose":       choose,
	"textsOf":      textsOf,
	"datesOf":      datesOf,
}
