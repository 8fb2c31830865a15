// helm_render: a Helm-compatible chart renderer for tests. IT STANDS IN FOR `helm template`;
// it is not Helm. There is no helm binary on the build machines, so tests render charts with
// this instead: Go's text/template with sprig's functions (Helm's own template library) and
// Helm's additions — include, tpl, required, toYaml, fromYaml[Array], toJson, fromJson[Array],
// lookup (empty, as under `helm template`) — over .Values, .Release, .Chart, .Capabilities and .Template.
//
//   helm_render --chart deploy/helm/smart-autoscaler --values my.yaml \
//       --set tls.mode=cert-manager --release-name smart-autoscaler --namespace smart-autoscaler
//
// Values merge as in Helm: the chart's values.yaml, then each --values file, then each --set
// (dotted path = scalar; "true"/"false"/integers are typed). Output is one YAML stream with a
// "# Source: <chart>/templates/<file>" comment before each document, like `helm template`.
// Templates run with missingkey=zero and "<no value>" is removed, as Helm does. Not supported:
// subcharts, .Files, hooks, NOTES.txt output, the env/expandenv functions (Helm drops them too).
//
// Build (GOPATH mode, offline, from Debian's golang + golang-github-masterminds-sprig-dev +
// golang-k8s-sigs-yaml-dev):
//   GO111MODULE=off GOFLAGS=-mod=off GOPATH=/usr/share/gocode go build -o helm_render helm_render.go
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"sigs.k8s.io/yaml"
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// mergeValues deep-merges src into dst (maps merge, anything else replaces), as Helm does.
func mergeValues(dst, src map[string]interface{}) map[string]interface{} {
	for k, v := range src {
		if sm, ok := v.(map[string]interface{}); ok {
			if dm, ok := dst[k].(map[string]interface{}); ok {
				dst[k] = mergeValues(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
	return dst
}

func typedScalar(s string) interface{} {
	switch s {
	case "true":
		return true
	case "false":
		return false
	case "null":
		return nil
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i
	}
	return s
}

// setValue applies one --set a.b.c=value.
func setValue(values map[string]interface{}, expr string) error {
	eq := strings.Index(expr, "=")
	if eq <= 0 {
		return fmt.Errorf("--set %q: want path=value", expr)
	}
	path := strings.Split(expr[:eq], ".")
	m := values
	for _, p := range path[:len(path)-1] {
		next, ok := m[p].(map[string]interface{})
		if !ok {
			next = map[string]interface{}{}
			m[p] = next
		}
		m = next
	}
	m[path[len(path)-1]] = typedScalar(expr[eq+1:])
	return nil
}

func readYamlMap(path string) (map[string]interface{}, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]interface{}{}
	if err := yaml.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return out, nil
}

// toYaml is Helm's: sigs.k8s.io/yaml, trailing newline trimmed, "" on error.
func toYaml(v interface{}) string {
	data, err := yaml.Marshal(v)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(data), "\n")
}

func fromYaml(s string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := yaml.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

func toJson(v interface{}) string {
	data, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(data)
}

func fromJson(s string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

func fromJsonArray(s string) []interface{} {
	a := []interface{}{}
	if err := json.Unmarshal([]byte(s), &a); err != nil {
		a = []interface{}{err.Error()}
	}
	return a
}

func fromYamlArray(s string) []interface{} {
	a := []interface{}{}
	if err := yaml.Unmarshal([]byte(s), &a); err != nil {
		a = []interface{}{err.Error()}
	}
	return a
}

func required(msg string, v interface{}) (interface{}, error) {
	if v == nil {
		return v, errors.New(msg)
	}
	if s, ok := v.(string); ok && s == "" {
		return v, errors.New(msg)
	}
	return v, nil
}

type renderer struct {
	root     *template.Template
	chartDir string
	name     string
}

// funcs: sprig's text functions minus env/expandenv, plus Helm's own.
func (r *renderer) funcs() template.FuncMap {
	f := sprig.TxtFuncMap()
	delete(f, "env")
	delete(f, "expandenv")
	f["toYaml"] = toYaml
	f["fromYaml"] = fromYaml
	f["toJson"] = toJson
	f["fromJson"] = fromJson
	f["fromJsonArray"] = fromJsonArray
	f["fromYamlArray"] = fromYamlArray
	f["required"] = required
	f["lookup"] = func(string, string, string, string) (map[string]interface{}, error) {
		return map[string]interface{}{}, nil
	}
	f["include"] = func(name string, data interface{}) (string, error) {
		var buf bytes.Buffer
		if err := r.root.ExecuteTemplate(&buf, name, data); err != nil {
			return "", err
		}
		return buf.String(), nil
	}
	f["tpl"] = func(text string, data interface{}) (string, error) {
		t, err := r.root.Clone()
		if err != nil {
			return "", err
		}
		t, err = t.New("tpl").Parse(text)
		if err != nil {
			return "", fmt.Errorf("tpl: %v", err)
		}
		var buf bytes.Buffer
		if err := t.Execute(&buf, data); err != nil {
			return "", err
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
	return f
}

func templateFiles(dir string) ([]string, error) {
	var files []string
	err := filepath.Walk(filepath.Join(dir, "templates"), func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		ext := filepath.Ext(p)
		if !info.IsDir() && (ext == ".yaml" || ext == ".yml" || ext == ".tpl" || ext == ".txt") {
			files = append(files, p)
		}
		return nil
	})
	sort.Strings(files)
	return files, err
}

func (r *renderer) render(top map[string]interface{}) (string, error) {
	files, err := templateFiles(r.chartDir)
	if err != nil {
		return "", err
	}
	r.root = template.New("chart").Option("missingkey=zero")
	r.root.Funcs(r.funcs())
	var names []string
	for _, f := range files {
		rel, _ := filepath.Rel(r.chartDir, f)
		name := r.name + "/" + filepath.ToSlash(rel)
		text, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		if _, err := r.root.New(name).Parse(string(text)); err != nil {
			return "", err
		}
		base := filepath.Base(f)
		if !strings.HasPrefix(base, "_") && base != "NOTES.txt" {
			names = append(names, name)
		}
	}
	var out strings.Builder
	for _, name := range names {
		top["Template"] = map[string]interface{}{"Name": name, "BasePath": r.name + "/templates"}
		var buf bytes.Buffer
		if err := r.root.ExecuteTemplate(&buf, name, top); err != nil {
			return "", err
		}
		text := strings.ReplaceAll(buf.String(), "<no value>", "")
		if strings.TrimSpace(text) == "" {
			continue
		}
		for _, doc := range strings.Split(text, "\n---") {
			if strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(doc), "---")) == "" {
				continue
			}
			fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", name,
				strings.TrimPrefix(strings.Trim(doc, "\n"), "---\n"))
		}
	}
	return out.String(), nil
}

func run() error {
	var valueFiles, sets multiFlag
	chartDir := flag.String("chart", "", "chart directory (Chart.yaml, values.yaml, templates/)")
	release := flag.String("release-name", "smart-autoscaler", "release name (.Release.Name)")
	namespace := flag.String("namespace", "default", "release namespace (.Release.Namespace)")
	kubeVersion := flag.String("kube-version", "v1.30.0", ".Capabilities.KubeVersion.Version")
	output := flag.String("output", "", "write here instead of stdout")
	flag.Var(&valueFiles, "values", "values file (repeatable, later wins)")
	flag.Var(&sets, "set", "path=value (repeatable, after the files)")
	flag.Parse()
	if *chartDir == "" {
		return errors.New("--chart is required")
	}
	chart, err := readYamlMap(filepath.Join(*chartDir, "Chart.yaml"))
	if err != nil {
		return err
	}
	values, err := readYamlMap(filepath.Join(*chartDir, "values.yaml"))
	if err != nil {
		return err
	}
	for _, f := range valueFiles {
		extra, err := readYamlMap(f)
		if err != nil {
			return err
		}
		values = mergeValues(values, extra)
	}
	for _, s := range sets {
		if err := setValue(values, s); err != nil {
			return err
		}
	}
	// Helm exposes Chart.yaml fields capitalised (.Chart.Name, .Chart.Version, .Chart.AppVersion).
	chartObj := map[string]interface{}{}
	for k, v := range chart {
		chartObj[strings.ToUpper(k[:1])+k[1:]] = v
	}
	name, _ := chart["name"].(string)
	top := map[string]interface{}{
		"Values": values,
		"Chart":  chartObj,
		"Release": map[string]interface{}{
			"Name": *release, "Namespace": *namespace, "Service": "Helm",
			"IsInstall": true, "IsUpgrade": false, "Revision": 1,
		},
		"Capabilities": map[string]interface{}{
			"KubeVersion": map[string]interface{}{"Version": *kubeVersion, "GitVersion": *kubeVersion},
		},
	}
	r := &renderer{chartDir: *chartDir, name: name}
	text, err := r.render(top)
	if err != nil {
		return err
	}
	if *output == "" {
		_, err = os.Stdout.WriteString(text)
		return err
	}
	return os.WriteFile(*output, []byte(text), 0o644)
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "helm_render: error:", err)
		os.Exit(1)
	}
}
