package check

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/compose-spec/compose-go/v2/types"
)

// deployDir is deploy/, this module's parent folder.
func deployDir(t testing.TB) string {
	t.Helper()
	d, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// composeDir copies deploy/compose and deploy/asterisk into a temporary
// deploy/ with .env.example as .env, as an operator would set it up, and
// returns the compose folder in it.
func composeDir(t testing.TB) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"compose", "asterisk"} {
		if err := os.CopyFS(filepath.Join(root, d), os.DirFS(filepath.Join(deployDir(t), d))); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(root, "compose")
	b, err := os.ReadFile(filepath.Join(dir, ".env.example"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".env"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// loadCompose loads compose.yaml the way `docker compose` does, with .env
// for interpolation and env_file, and nothing from this process's
// environment. interpolate=false gives the file as written.
func loadCompose(t testing.TB, dir string, interpolate bool) *types.Project {
	t.Helper()
	fns := []cli.ProjectOptionsFn{
		cli.WithWorkingDirectory(dir),
		cli.WithEnvFiles(filepath.Join(dir, ".env")),
		cli.WithDotEnv,
		cli.WithInterpolation(interpolate),
		cli.WithResolvedPaths(true),
	}
	if !interpolate {
		// As written: env_file not merged into environment either.
		fns = append(fns, cli.WithoutEnvironmentResolution)
	}
	opts, err := cli.NewProjectOptions([]string{filepath.Join(dir, "compose.yaml")}, fns...)
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("load compose.yaml: %v", err)
	}
	return p
}

func envExample(t testing.TB) map[string]string {
	t.Helper()
	env, err := dotenv.GetEnvFromFile(nil, []string{filepath.Join(deployDir(t), "compose", ".env.example")})
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// verzetInstances are the services running `verzet serve`.
func verzetInstances(t testing.TB, p *types.Project) []types.ServiceConfig {
	t.Helper()
	image := envExample(t)["VERZET_IMAGE"]
	var out []types.ServiceConfig
	for _, name := range p.ServiceNames() {
		s := p.Services[name]
		if s.Image == image && len(s.Command) > 0 && s.Command[0] == "serve" {
			out = append(out, s)
		}
	}
	return out
}

// secretName reports whether a variable holds a password, token or
// credentials (the same list verzet keeps out of --help, plus PostgreSQL's).
func secretName(k string) bool {
	for _, s := range []string{"PASSWORD", "TOKEN", "SECRET", "DATABASE_URL", "API_KEY"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

func TestComposeTwoInstancesOneStasisAppEach(t *testing.T) {
	p := loadCompose(t, composeDir(t), true)
	inst := verzetInstances(t, p)
	if len(inst) != 2 {
		t.Fatalf("verzet instances: got %d, want 2", len(inst))
	}
	var apps []string
	for _, s := range inst {
		if s.Deploy != nil && s.Deploy.Replicas != nil && *s.Deploy.Replicas != 1 {
			t.Errorf("%s: %d replicas would share one Stasis application name", s.Name, *s.Deploy.Replicas)
		}
		if s.Scale != nil && *s.Scale != 1 {
			t.Errorf("%s: scale %d would share one Stasis application name", s.Name, *s.Scale)
		}
		app := s.Environment["VERZET_ARI_APP"]
		if app == nil || *app == "" {
			t.Fatalf("%s: no VERZET_ARI_APP", s.Name)
		}
		apps = append(apps, *app)
		if u := s.Environment["VERZET_ARI_URL"]; u == nil || *u != "http://asterisk:8088/ari" {
			t.Errorf("%s: VERZET_ARI_URL = %v, want the asterisk service's ARI", s.Name, u)
		}
		if !slices.Equal([]string(s.Command), []string{"serve", "--no-migrate"}) {
			t.Errorf("%s: command %q, want serve --no-migrate (migrate runs once, before)", s.Name, s.Command)
		}
		if n := s.Networks["default"]; n == nil || !slices.Contains(n.Aliases, "verzet") {
			t.Errorf("%s: not reachable as verzet on the default network", s.Name)
		}
	}
	sort.Strings(apps)
	if apps[0] == apps[1] {
		t.Fatalf("both instances use Stasis application %q", apps[0])
	}
	// The dialplan hands calls to exactly these applications.
	b, err := os.ReadFile(filepath.Join(deployDir(t), "asterisk", "extensions.conf"))
	if err != nil {
		t.Fatal(err)
	}
	var stasis []string
	for _, m := range regexp.MustCompile(`(?m)^[^;\n]*Stasis\(([^,)\n]+)`).FindAllStringSubmatch(string(b), -1) {
		if !slices.Contains(stasis, m[1]) {
			stasis = append(stasis, m[1])
		}
	}
	sort.Strings(stasis)
	if !slices.Equal(apps, stasis) {
		t.Errorf("instances' Stasis apps %q, extensions.conf hands calls to %q", apps, stasis)
	}
}

func TestComposeStartOrder(t *testing.T) {
	p := loadCompose(t, composeDir(t), true)
	m, ok := p.Services["migrate"]
	if !ok {
		t.Fatal("no migrate service")
	}
	if !slices.Equal([]string(m.Command), []string{"migrate"}) {
		t.Errorf("migrate: command %q, want migrate", m.Command)
	}
	if m.Restart != "no" {
		t.Errorf("migrate: restart %q: a one-shot job must not restart", m.Restart)
	}
	if d := m.DependsOn["postgres"]; d.Condition != types.ServiceConditionHealthy {
		t.Errorf("migrate: depends on postgres %q, want service_healthy", d.Condition)
	}
	for _, s := range verzetInstances(t, p) {
		if d, ok := s.DependsOn["migrate"]; !ok || d.Condition != types.ServiceConditionCompletedSuccessfully || !d.Required {
			t.Errorf("%s: depends on migrate %+v, want required service_completed_successfully", s.Name, d)
		}
		if d := s.DependsOn["postgres"]; d.Condition != types.ServiceConditionHealthy {
			t.Errorf("%s: depends on postgres %q, want service_healthy", s.Name, d.Condition)
		}
		if s.Image != m.Image {
			t.Errorf("%s runs %s, migrate %s: the schema must be the one serve expects", s.Name, s.Image, m.Image)
		}
		if s.StopGracePeriod == nil || *s.StopGracePeriod < types.Duration(50e9) {
			t.Errorf("%s: stop_grace_period %v, want ≥ 50s (calls finish, requests drain)", s.Name, s.StopGracePeriod)
		}
	}
}

func TestComposeHealthchecks(t *testing.T) {
	p := loadCompose(t, composeDir(t), true)
	for _, name := range []string{"postgres", "asterisk"} {
		h := p.Services[name].HealthCheck
		if h == nil || h.Disable || len(h.Test) < 2 || h.Interval == nil || h.Retries == nil {
			t.Errorf("%s: healthcheck %+v, want a test with interval and retries", name, h)
		}
	}
	// Every service_healthy dependency can become healthy.
	for _, s := range p.Services {
		for dep, d := range s.DependsOn {
			if d.Condition != types.ServiceConditionHealthy {
				continue
			}
			if h := p.Services[dep].HealthCheck; h == nil || h.Disable {
				t.Errorf("%s waits for %s to be healthy, which has no healthcheck", s.Name, dep)
			}
		}
	}
	for _, name := range []string{"verzet-a", "verzet-b"} {
		if h := p.Services[name].HealthCheck; h == nil || !slices.Equal([]string(h.Test), []string{"CMD", "/usr/local/bin/verzet", "probe", "--ready"}) {
			t.Errorf("%s: healthcheck %+v, want verzet probe --ready", name, h)
		}
	}
	if !slices.Equal([]string(p.Services["postgres"].HealthCheck.Test), []string{"CMD", "pg_isready", "--username=verzet", "--dbname=verzet"}) {
		t.Errorf("postgres healthcheck %q", p.Services["postgres"].HealthCheck.Test)
	}
}

func TestComposeSecretsOnlyFromEnvFile(t *testing.T) {
	dir := composeDir(t)
	raw := loadCompose(t, dir, false)
	interp := regexp.MustCompile(`^\$\{[A-Z0-9_]+(:?\?[^}]*)?\}$`)
	for _, s := range raw.Services {
		for k, v := range s.Environment {
			if secretName(k) && v != nil && !interp.MatchString(*v) {
				t.Errorf("%s: %s is written in compose.yaml; take it from .env", s.Name, k)
			}
		}
	}
	example := envExample(t)
	p := loadCompose(t, dir, true)
	for _, s := range append(verzetInstances(t, p), p.Services["migrate"]) {
		if _, ok := raw.Services[s.Name].Environment["VERZET_DATABASE_URL"]; ok {
			t.Errorf("%s: VERZET_DATABASE_URL set in compose.yaml", s.Name)
		}
		if len(s.EnvFiles) != 1 || filepath.Base(s.EnvFiles[0].Path) != ".env" || !bool(s.EnvFiles[0].Required) {
			t.Errorf("%s: env_file %+v, want the required .env", s.Name, s.EnvFiles)
		}
		// The loader resolves env_file into the environment the container gets.
		for _, k := range []string{"VERZET_DATABASE_URL", "VERZET_ARI_PASSWORD"} {
			if v := s.Environment[k]; v == nil || *v != example[k] {
				t.Errorf("%s: %s = %v, want the value from .env", s.Name, k, v)
			}
		}
	}
	// PostgreSQL and Asterisk get their password from .env too.
	if v := p.Services["postgres"].Environment["POSTGRES_PASSWORD"]; v == nil || *v != example["POSTGRES_PASSWORD"] {
		t.Errorf("postgres: POSTGRES_PASSWORD = %v, want .env's", v)
	}
	if v := p.Services["asterisk"].Environment["VERZET_ARI_PASSWORD"]; v == nil || *v != example["VERZET_ARI_PASSWORD"] {
		t.Errorf("asterisk: VERZET_ARI_PASSWORD = %v, want .env's", v)
	}
}

func TestComposeEnvExample(t *testing.T) {
	example := envExample(t)
	// Secrets are placeholders or empty: never a real value in the repository.
	for k, v := range example {
		if secretName(k) && v != "" && !strings.Contains(v, "CHANGE-ME") {
			t.Errorf(".env.example: %s=%q is not a placeholder", k, v)
		}
	}
	// Every variable compose.yaml needs is documented there.
	b, err := os.ReadFile(filepath.Join(deployDir(t), "compose", "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`\$\{([A-Z0-9_]+)`).FindAllStringSubmatch(string(b), -1) {
		if _, ok := example[m[1]]; !ok {
			t.Errorf("compose.yaml uses ${%s}, which .env.example does not set", m[1])
		}
	}
	for _, k := range []string{"VERZET_DATABASE_URL", "VERZET_ARI_PASSWORD", "VERZET_TWILIO_AUTH_TOKEN", "VERZET_WEBHOOK_SECRET", "POSTGRES_PASSWORD"} {
		if _, ok := example[k]; !ok {
			t.Errorf(".env.example does not document %s", k)
		}
	}
	ignore, err := os.ReadFile(filepath.Join(deployDir(t), "compose", ".gitignore"))
	if err != nil || !slices.Contains(strings.Fields(string(ignore)), ".env") {
		t.Errorf("deploy/compose/.gitignore must keep .env out of version control")
	}
}

// pinned: a registry image with a version tag of at least major.minor.
var pinned = regexp.MustCompile(`^[a-z0-9.-]+(/[a-z0-9._-]+)+:v?[0-9]+\.[0-9]+[0-9A-Za-z.+_-]*$`)

func TestComposeImagesPinned(t *testing.T) {
	raw := loadCompose(t, composeDir(t), false)
	for _, s := range raw.Services {
		switch {
		case strings.HasPrefix(s.Image, "${VERZET_IMAGE:?"):
			// The operator names the tag make image printed; there is no default.
		case s.Build != nil:
			// Built here: its base image must be pinned.
			b, err := os.ReadFile(filepath.Join(s.Build.Context, s.Build.Dockerfile))
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range regexp.MustCompile(`(?m)^FROM\s+(\S+)`).FindAllStringSubmatch(string(b), -1) {
				if !pinned.MatchString(m[1]) {
					t.Errorf("%s: base image %s is not pinned to a version", s.Name, m[1])
				}
			}
		case !pinned.MatchString(s.Image):
			t.Errorf("%s: image %s is not pinned to a version", s.Name, s.Image)
		}
	}
}

func TestComposeAsteriskUsesDeployConfigs(t *testing.T) {
	p := loadCompose(t, composeDir(t), true)
	a := p.Services["asterisk"]
	want := map[string]string{
		"ari.conf":        "/etc/verzet/ari.conf", // rewritten with the password at start
		"http.conf":       "/etc/asterisk/http.conf",
		"extensions.conf": "/etc/asterisk/extensions.conf",
	}
	for _, v := range a.Volumes {
		if v.Type != types.VolumeTypeBind {
			continue
		}
		file := filepath.Base(v.Source)
		if filepath.Base(filepath.Dir(v.Source)) != "asterisk" || want[file] != v.Target {
			t.Errorf("asterisk: unexpected bind %s → %s", v.Source, v.Target)
			continue
		}
		if !v.ReadOnly {
			t.Errorf("asterisk: %s is mounted writable", file)
		}
		if _, err := os.Stat(v.Source); err != nil {
			t.Errorf("asterisk: %v", err)
		}
		delete(want, file)
	}
	for f := range want {
		t.Errorf("asterisk: deploy/asterisk/%s is not mounted", f)
	}
	// verzet logs in as the user ari.conf defines.
	b, err := os.ReadFile(filepath.Join(deployDir(t), "asterisk", "ari.conf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range verzetInstances(t, p) {
		user := s.Environment["VERZET_ARI_USER"]
		if user == nil || !regexp.MustCompile(`(?m)^\[`+regexp.QuoteMeta(*user)+`\]\s*\ntype\s*=\s*user`).Match(b) {
			t.Errorf("%s: VERZET_ARI_USER %v is not a user in ari.conf", s.Name, user)
		}
	}
}

func TestComposeVerzetHardened(t *testing.T) {
	p := loadCompose(t, composeDir(t), true)
	for _, s := range append(verzetInstances(t, p), p.Services["migrate"]) {
		if !s.ReadOnly {
			t.Errorf("%s: root filesystem writable", s.Name)
		}
		if !slices.Contains(s.CapDrop, "ALL") {
			t.Errorf("%s: capabilities not dropped", s.Name)
		}
		if !slices.Contains(s.SecurityOpt, "no-new-privileges:true") {
			t.Errorf("%s: no-new-privileges not set", s.Name)
		}
		if s.User != "" {
			t.Errorf("%s: user %q overrides the image's non-root user", s.Name, s.User)
		}
		for _, port := range s.Ports {
			if port.HostIP != "127.0.0.1" {
				t.Errorf("%s: port %d published on %q, want 127.0.0.1 behind a TLS proxy", s.Name, port.Target, port.HostIP)
			}
		}
	}
	for _, s := range verzetInstances(t, p) {
		data := false
		for _, v := range s.Volumes {
			data = data || (v.Type == types.VolumeTypeVolume && v.Target == "/data")
		}
		if !data {
			t.Errorf("%s: /data (the key-press spool) is not a named volume", s.Name)
		}
	}
}
