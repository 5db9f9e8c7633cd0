package check

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// helm returns the helm binary: $VERZET_HELM, else helm on PATH.
// scripts/deploy-test installs it (go install helm.sh/helm/v4/cmd/helm).
func helm(t testing.TB) string {
	t.Helper()
	if h := os.Getenv("VERZET_HELM"); h != "" {
		return h
	}
	h, err := exec.LookPath("helm")
	if err != nil {
		t.Fatal("helm not found: run scripts/deploy-test, or set VERZET_HELM to a helm v4 binary")
	}
	return h
}

func chartDir(t testing.TB) string { return filepath.Join(deployDir(t), "helm", "verzet") }

// everything turns on every optional part, with every secret referenced.
const everything = `
ingress:
  enabled: true
  className: nginx
  hosts:
    - host: ivr.example.nl
      paths: [{path: /, pathType: Prefix}]
  tls:
    - secretName: ivr-tls
      hosts: [ivr.example.nl]
serviceMonitor:
  enabled: true
  labels: {release: prometheus}
ari:
  url: http://pbx1:8088/ari,http://pbx2:8088/ari
  mediaURL: http://verzet.verzet.svc:8080
secrets:
  twilioAuthToken: {name: verzet-twilio}
  ariPassword: {name: verzet-ari}
  webhookSecret: {name: verzet-webhooks}
env:
  VERZET_DEFAULT_ORG: acme
  VERZET_PUBLIC_URL: https://ivr.example.nl
  VERZET_WEBHOOK_URLS: https://crm.example.nl/hooks/verzet
  VERZET_RELATION_TERM: 24
`

// statefulset is the set-up for Asterisk: stable pod names, a claim each.
const statefulset = `
serviceMonitor: {enabled: true}
workload: StatefulSet
replicaCount: 3
persistence: {enabled: true, size: 2Gi}
ari: {url: http://pbx1:8088/ari}
secrets:
  ariPassword: {name: verzet-ari}
`

// rendered is one `helm template`, decoded strictly by kind.
type rendered struct {
	deployments  []appsv1.Deployment
	statefulsets []appsv1.StatefulSet
	services     []corev1.Service
	pdbs         []policyv1.PodDisruptionBudget
	jobs         []batchv1.Job
	ingresses    []networkingv1.Ingress
	monitors     []map[string]any
}

func valuesFile(t testing.TB, values string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(f, []byte(values), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// helmTemplate runs helm template with the values (YAML, may be empty) and
// returns its output, or the error text when it fails.
func helmTemplate(t testing.TB, values string) (string, error) {
	t.Helper()
	args := []string{"template", "rel", chartDir(t), "--namespace", "verzet"}
	if values != "" {
		args = append(args, "--values", valuesFile(t, values))
	}
	var out, errb bytes.Buffer
	cmd := exec.Command(helm(t), args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return errb.String(), err
	}
	return out.String(), nil
}

func render(t testing.TB, values string) rendered {
	t.Helper()
	out, err := helmTemplate(t, values)
	if err != nil {
		t.Fatalf("helm template: %v\n%s", err, out)
	}
	var r rendered
	for _, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(out, -1) {
		if strings.TrimSpace(regexp.MustCompile(`(?m)^#.*$`).ReplaceAllString(doc, "")) == "" {
			continue
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			t.Fatalf("manifest without kind: %v\n%s", err, doc)
		}
		// UnmarshalStrict fails on any field the API type does not have
		// (a typo, a wrong indent) and on duplicate keys.
		strict := func(v any) {
			t.Helper()
			if err := yaml.UnmarshalStrict([]byte(doc), v); err != nil {
				t.Fatalf("%s %s: %v\n%s", tm.APIVersion, tm.Kind, err, doc)
			}
		}
		switch tm.APIVersion + " " + tm.Kind {
		case "apps/v1 Deployment":
			add(strict, &r.deployments)
		case "apps/v1 StatefulSet":
			add(strict, &r.statefulsets)
		case "v1 Service":
			add(strict, &r.services)
		case "policy/v1 PodDisruptionBudget":
			add(strict, &r.pdbs)
		case "batch/v1 Job":
			add(strict, &r.jobs)
		case "networking.k8s.io/v1 Ingress":
			add(strict, &r.ingresses)
		case "monitoring.coreos.com/v1 ServiceMonitor":
			add(strict, &r.monitors)
		default:
			t.Fatalf("unexpected manifest %s %s", tm.APIVersion, tm.Kind)
		}
	}
	return r
}

// add decodes the manifest into a new T and appends it to list.
func add[T any](strict func(any), list *[]T) {
	var v T
	strict(&v)
	*list = append(*list, v)
}

func one[T any](t testing.TB, what string, list []T) T {
	t.Helper()
	if len(list) != 1 {
		t.Fatalf("%s: got %d, want 1", what, len(list))
	}
	return list[0]
}

func envVar(c corev1.Container, name string) *corev1.EnvVar {
	for i := range c.Env {
		if c.Env[i].Name == name {
			return &c.Env[i]
		}
	}
	return nil
}

func wantSecretRef(t testing.TB, c corev1.Container, env, secret string) {
	t.Helper()
	v := envVar(c, env)
	if v == nil || v.Value != "" || v.ValueFrom == nil || v.ValueFrom.SecretKeyRef == nil || v.ValueFrom.SecretKeyRef.Name != secret {
		t.Errorf("%s: %s = %+v, want a reference to Secret %s", c.Name, env, v, secret)
	}
}

// checkPod checks what every verzet pod must be: probed, limited, non-root,
// read-only, with its secrets from Secrets and /data writable.
func checkPod(t testing.TB, spec corev1.PodSpec, selector map[string]string, podLabels map[string]string) corev1.Container {
	t.Helper()
	for k, v := range selector {
		if podLabels[k] != v {
			t.Errorf("pod labels %v do not match the selector %v", podLabels, selector)
		}
	}
	c := one(t, "containers", spec.Containers)
	if p := c.LivenessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/healthz" || p.HTTPGet.Port.String() != "http" {
		t.Errorf("liveness probe %+v, want GET /healthz on http", p)
	}
	if p := c.ReadinessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/readyz" || p.HTTPGet.Port.String() != "http" {
		t.Errorf("readiness probe %+v, want GET /readyz on http", p)
	}
	if len(c.Ports) != 1 || c.Ports[0].Name != "http" || c.Ports[0].ContainerPort != 8080 {
		t.Errorf("ports %+v, want http 8080", c.Ports)
	}
	if v := envVar(c, "VERZET_HTTP_ADDR"); v == nil || v.Value != ":8080" {
		t.Errorf("VERZET_HTTP_ADDR %+v, want :8080 (the container port)", v)
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("resources %+v, want cpu and memory requests and a memory limit", c.Resources)
	}
	ps := spec.SecurityContext
	if ps == nil || ps.RunAsNonRoot == nil || !*ps.RunAsNonRoot || ps.RunAsUser == nil || *ps.RunAsUser == 0 {
		t.Errorf("pod security context %+v, want runAsNonRoot with a non-zero user", ps)
	}
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
		t.Errorf("container security context %+v, want read-only root, no privilege escalation, all capabilities dropped", sc)
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Error("the service account token is mounted; verzet does not use the Kubernetes API")
	}
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.MountPath] = m.Name
	}
	if mounts["/data"] == "" || mounts["/tmp"] == "" {
		t.Errorf("mounts %v, want /data and /tmp writable on a read-only root", mounts)
	}
	if v := envVar(c, "VERZET_DATA_DIR"); v == nil || v.Value != "/data" {
		t.Errorf("VERZET_DATA_DIR %+v, want /data", v)
	}
	// No secret is ever a literal in the manifest.
	for _, e := range c.Env {
		if secretName(e.Name) && (e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil) {
			t.Errorf("%s is not taken from a Secret", e.Name)
		}
	}
	return c
}

func TestHelmDefaults(t *testing.T) {
	r := render(t, "")
	if len(r.statefulsets)+len(r.ingresses)+len(r.monitors) != 0 {
		t.Errorf("defaults render optional parts: %d statefulsets, %d ingresses, %d service monitors", len(r.statefulsets), len(r.ingresses), len(r.monitors))
	}
	d := one(t, "deployments", r.deployments)
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
		t.Errorf("replicas %v, want 2", d.Spec.Replicas)
	}
	if ru := d.Spec.Strategy.RollingUpdate; ru == nil || ru.MaxUnavailable == nil || ru.MaxUnavailable.IntValue() != 0 {
		t.Errorf("rolling update %+v, want maxUnavailable 0", ru)
	}
	sel := d.Spec.Selector.MatchLabels
	c := checkPod(t, d.Spec.Template.Spec, sel, d.Spec.Template.Labels)
	if !slices.Equal(c.Args, []string{"serve", "--no-migrate"}) {
		t.Errorf("args %q, want serve --no-migrate (the hook Job migrates)", c.Args)
	}
	wantSecretRef(t, c, "VERZET_DATABASE_URL", "verzet-database")
	if d.Spec.Template.Spec.TerminationGracePeriodSeconds == nil || *d.Spec.Template.Spec.TerminationGracePeriodSeconds < 50 {
		t.Errorf("terminationGracePeriodSeconds %v, want ≥ 50 (calls finish, requests drain)", d.Spec.Template.Spec.TerminationGracePeriodSeconds)
	}
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.Name == "data" && v.EmptyDir == nil {
			t.Errorf("data volume %+v, want an emptyDir", v)
		}
	}

	s := one(t, "services", r.services)
	if !mapsEqual(s.Spec.Selector, sel) || len(s.Spec.Ports) != 1 || s.Spec.Ports[0].TargetPort.String() != "http" {
		t.Errorf("service %+v does not send to the pods' http port", s.Spec)
	}

	p := one(t, "pdbs", r.pdbs)
	if p.Spec.MinAvailable == nil || p.Spec.MinAvailable.IntValue() != 1 || !mapsEqual(p.Spec.Selector.MatchLabels, sel) {
		t.Errorf("pdb %+v, want minAvailable 1 over the pods", p.Spec)
	}

	j := one(t, "jobs", r.jobs)
	if h := j.Annotations["helm.sh/hook"]; h != "pre-install,pre-upgrade" {
		t.Errorf("migrate job hook %q, want pre-install,pre-upgrade", h)
	}
	if !strings.Contains(j.Annotations["helm.sh/hook-delete-policy"], "before-hook-creation") {
		t.Errorf("migrate job delete policy %q: a failed Job would block the next upgrade", j.Annotations["helm.sh/hook-delete-policy"])
	}
	jc := one(t, "job containers", j.Spec.Template.Spec.Containers)
	if !slices.Equal(jc.Args, []string{"migrate"}) || jc.Image != c.Image {
		t.Errorf("migrate job runs %s %q, want %s migrate", jc.Image, jc.Args, c.Image)
	}
	if j.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("migrate job restartPolicy %q", j.Spec.Template.Spec.RestartPolicy)
	}
	wantSecretRef(t, jc, "VERZET_DATABASE_URL", "verzet-database")
	if sc := jc.SecurityContext; sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Errorf("migrate job security context %+v, want the pods' one", sc)
	}
	if ps := j.Spec.Template.Spec.SecurityContext; ps == nil || ps.RunAsNonRoot == nil || !*ps.RunAsNonRoot {
		t.Errorf("migrate job pod security context %+v, want runAsNonRoot", ps)
	}
	// The Service and the PDB must not count the migration's pod as a server.
	if matches(sel, j.Spec.Template.Labels) {
		t.Errorf("the migrate pod's labels %v match the server selector %v", j.Spec.Template.Labels, sel)
	}
}

func TestHelmEverythingEnabled(t *testing.T) {
	r := render(t, everything)
	d := one(t, "deployments", r.deployments)
	c := checkPod(t, d.Spec.Template.Spec, d.Spec.Selector.MatchLabels, d.Spec.Template.Labels)
	wantSecretRef(t, c, "VERZET_TWILIO_AUTH_TOKEN", "verzet-twilio")
	wantSecretRef(t, c, "VERZET_ARI_PASSWORD", "verzet-ari")
	wantSecretRef(t, c, "VERZET_WEBHOOK_SECRET", "verzet-webhooks")
	if v := envVar(c, "VERZET_ARI_APP"); v == nil || v.ValueFrom == nil || v.ValueFrom.FieldRef == nil || v.ValueFrom.FieldRef.FieldPath != "metadata.name" {
		t.Errorf("VERZET_ARI_APP %+v, want the pod's name", v)
	}
	for name, want := range map[string]string{
		"VERZET_ARI_URL":       "http://pbx1:8088/ari,http://pbx2:8088/ari",
		"VERZET_ARI_USER":      "verzet",
		"VERZET_ARI_MEDIA_URL": "http://verzet.verzet.svc:8080",
		"VERZET_DEFAULT_ORG":   "acme",
		"VERZET_RELATION_TERM": "24",
	} {
		if v := envVar(c, name); v == nil || v.Value != want {
			t.Errorf("%s = %+v, want %q", name, v, want)
		}
	}

	svc := one(t, "services", r.services)
	ing := one(t, "ingresses", r.ingresses)
	if ing.Spec.IngressClassName == nil || *ing.Spec.IngressClassName != "nginx" || len(ing.Spec.TLS) != 1 {
		t.Errorf("ingress class %v, tls %+v", ing.Spec.IngressClassName, ing.Spec.TLS)
	}
	rule := one(t, "ingress rules", ing.Spec.Rules)
	path := one(t, "ingress paths", rule.HTTP.Paths)
	if b := path.Backend.Service; rule.Host != "ivr.example.nl" || b == nil || b.Name != svc.Name || b.Port.Name != "http" {
		t.Errorf("ingress rule %+v does not send to service %s port http", rule, svc.Name)
	}

	m := one(t, "service monitors", r.monitors)
	meta, _ := m["metadata"].(map[string]any)
	labels, _ := meta["labels"].(map[string]any)
	if meta["name"] == nil || labels["release"] != "prometheus" {
		t.Errorf("service monitor metadata %v, want a name and the release label", meta)
	}
	spec, _ := m["spec"].(map[string]any)
	sel, _ := spec["selector"].(map[string]any)
	match, _ := sel["matchLabels"].(map[string]any)
	if len(match) == 0 {
		t.Fatalf("service monitor selects nothing: %v", spec)
	}
	for k, v := range match {
		if svc.Labels[k] != v {
			t.Errorf("service monitor selector %v does not match the service's labels %v", match, svc.Labels)
		}
	}
	eps, _ := spec["endpoints"].([]any)
	ep, _ := one(t, "service monitor endpoints", eps).(map[string]any)
	if ep["port"] != "http" || ep["path"] != "/metrics" || ep["interval"] == nil {
		t.Errorf("service monitor endpoint %v, want port http, path /metrics, an interval", ep)
	}
}

func TestHelmStatefulSetForAsterisk(t *testing.T) {
	r := render(t, statefulset)
	if len(r.deployments) != 0 {
		t.Fatal("StatefulSet workload also renders a Deployment")
	}
	s := one(t, "statefulsets", r.statefulsets)
	if s.Spec.Replicas == nil || *s.Spec.Replicas != 3 {
		t.Errorf("replicas %v, want 3", s.Spec.Replicas)
	}
	c := checkPod(t, s.Spec.Template.Spec, s.Spec.Selector.MatchLabels, s.Spec.Template.Labels)
	if v := envVar(c, "VERZET_ARI_APP"); v == nil || v.ValueFrom == nil || v.ValueFrom.FieldRef == nil || v.ValueFrom.FieldRef.FieldPath != "metadata.name" {
		t.Errorf("VERZET_ARI_APP %+v, want the pod's name (rel-verzet-0, -1, …)", v)
	}
	var headless *corev1.Service
	for i := range r.services {
		if r.services[i].Name == s.Spec.ServiceName {
			headless = &r.services[i]
		}
	}
	if headless == nil || headless.Spec.ClusterIP != corev1.ClusterIPNone {
		t.Errorf("serviceName %q is not a headless service of the chart", s.Spec.ServiceName)
	}
	// Prometheus scrapes each pod once: through one Service, not both.
	m := one(t, "service monitors", r.monitors)
	spec, _ := m["spec"].(map[string]any)
	sel, _ := spec["selector"].(map[string]any)
	match := map[string]string{}
	for k, v := range sel["matchLabels"].(map[string]any) {
		match[k], _ = v.(string)
	}
	scraped := 0
	for _, svc := range r.services {
		if matches(match, svc.Labels) {
			scraped++
		}
	}
	if scraped != 1 {
		t.Errorf("the service monitor selects %d services, want 1", scraped)
	}
	pvc := one(t, "volume claim templates", s.Spec.VolumeClaimTemplates)
	if pvc.Name != "data" || pvc.Spec.Resources.Requests.Storage().String() != "2Gi" {
		t.Errorf("claim %s of %v, want data of 2Gi", pvc.Name, pvc.Spec.Resources.Requests.Storage())
	}
	for _, v := range s.Spec.Template.Spec.Volumes {
		if v.Name == "data" {
			t.Errorf("data is both a claim and a pod volume (%+v)", v)
		}
	}
	if p := one(t, "pdbs", r.pdbs); !mapsEqual(p.Spec.Selector.MatchLabels, s.Spec.Selector.MatchLabels) {
		t.Errorf("pdb selects %v, pods are %v", p.Spec.Selector.MatchLabels, s.Spec.Selector.MatchLabels)
	}
}

func TestHelmEmbeddedStoreSinglePod(t *testing.T) {
	r := render(t, "replicaCount: 1\ndatabase: {existingSecret: \"\"}\n")
	d := one(t, "deployments", r.deployments)
	c := checkPod(t, d.Spec.Template.Spec, d.Spec.Selector.MatchLabels, d.Spec.Template.Labels)
	if !slices.Equal(c.Args, []string{"serve"}) {
		t.Errorf("args %q, want serve (it migrates the embedded store itself)", c.Args)
	}
	if envVar(c, "VERZET_DATABASE_URL") != nil {
		t.Error("VERZET_DATABASE_URL set without a database Secret")
	}
	if len(r.jobs) != 0 || len(r.pdbs) != 0 {
		t.Errorf("one pod on the embedded store renders %d jobs and %d pdbs, want none", len(r.jobs), len(r.pdbs))
	}
}

func TestHelmRefusesBrokenValues(t *testing.T) {
	tests := []struct {
		name, values, want string
	}{
		{"secret in env", "env: {VERZET_DATABASE_URL: postgres://u:p@db/verzet}", "holds a secret"},
		{"ari password in env", "env: {VERZET_ARI_PASSWORD: hunter2}", "holds a secret"},
		{"setting the chart owns", "env: {VERZET_ARI_APP: verzet-a}", "set by the chart"},
		{"not a verzet setting", "env: {HTTP_PROXY: http://proxy:3128}", "only VERZET_"},
		{"replicas on sqlite", "database: {existingSecret: \"\"}", "several replicas need PostgreSQL"},
		{"unknown workload", "workload: DaemonSet", "Deployment or StatefulSet"},
		{"claims on a deployment", "persistence: {enabled: true}", "needs workload: StatefulSet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := helmTemplate(t, tt.values)
			if err == nil || !strings.Contains(out, tt.want) {
				t.Errorf("helm template: err %v, output %q; want a failure saying %q", err, out, tt.want)
			}
		})
	}
}

func TestHelmLint(t *testing.T) {
	for name, values := range map[string]string{"defaults": "", "everything": everything, "statefulset": statefulset} {
		t.Run(name, func(t *testing.T) {
			args := []string{"lint", "--strict", chartDir(t)}
			if values != "" {
				args = append(args, "--values", valuesFile(t, values))
			}
			out, err := exec.Command(helm(t), args...).CombinedOutput()
			if err != nil {
				t.Errorf("helm lint: %v\n%s", err, out)
			}
		})
	}
}

// TestHelmValuesDocumented: every value in values.yaml has a comment, on
// itself or on a value it is part of (resources.requests.cpu is covered by
// the comment on resources).
func TestHelmValuesDocumented(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(chartDir(t), "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	key := regexp.MustCompile(`^\s*([A-Za-z][A-Za-z0-9]*):(.*)$`)
	leaves := 0
	for i, l := range lines {
		m := key.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		group := strings.TrimSpace(m[2]) == "" && i+1 < len(lines) && indentOf(lines[i+1]) > indentOf(l) &&
			!strings.HasPrefix(strings.TrimSpace(lines[i+1]), "-")
		if group {
			continue // its members are checked
		}
		leaves++
		if !documented(lines, i) {
			t.Errorf("values.yaml:%d: %s has no comment", i+1, m[1])
		}
	}
	if leaves < 40 {
		t.Errorf("found only %d values: is the check still reading values.yaml?", leaves)
	}
}

func indentOf(l string) int { return len(l) - len(strings.TrimLeft(l, " ")) }

// documented: a comment right above line i, or above one of its parents.
func documented(lines []string, i int) bool {
	for {
		if i > 0 && strings.HasPrefix(strings.TrimSpace(lines[i-1]), "#") {
			return true
		}
		in := indentOf(lines[i])
		if in == 0 {
			return false
		}
		j := i - 1
		for j >= 0 && (strings.TrimSpace(lines[j]) == "" || strings.HasPrefix(strings.TrimSpace(lines[j]), "#") || indentOf(lines[j]) >= in) {
			j--
		}
		if j < 0 {
			return false
		}
		i = j
	}
}

// matches: every label of the selector is on the object.
func matches(selector, labels map[string]string) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
