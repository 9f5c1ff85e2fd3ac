package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailtrust/mailtrust/internal/corpus"
)

// jsonTags returns the JSON names of a struct type's fields.
func jsonTags(t reflect.Type) map[string]bool {
	out := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
			out[name] = true
		}
	}
	return out
}

// missingKeys returns the keys of doc missing in real, recursively.
func missingKeys(path string, doc, real any) []string {
	var out []string
	switch d := doc.(type) {
	case map[string]any:
		r, ok := real.(map[string]any)
		if !ok {
			return []string{path + " (not an object)"}
		}
		for k, v := range d {
			rv, ok := r[k]
			if !ok {
				out = append(out, path+"."+k)
				continue
			}
			out = append(out, missingKeys(path+"."+k, v, rv)...)
		}
	case []any:
		r, ok := real.([]any)
		if ok && len(d) > 0 && len(r) > 0 {
			out = append(out, missingKeys(path+"[0]", d[0], r[0])...)
		}
	}
	return out
}

// TestCorpusDoc keeps docs/CORPUS.md true: its case example uses only
// fields a cases line has, and every key of its verdict-line example
// appears in the verdict lines a replay prints, for a case and for a
// mailbox message; every key of conn is documented.
func TestCorpusDoc(t *testing.T) {
	b, err := os.ReadFile("../../docs/CORPUS.md")
	require.NoError(t, err)
	doc := string(b)
	blocks := regexp.MustCompile("(?s)```json\n(.*?)```").FindAllStringSubmatch(doc, -1)
	require.Len(t, blocks, 2, "a case example and a verdict-line example")

	var c map[string]any
	require.NoError(t, json.Unmarshal([]byte(blocks[0][1]), &c))
	caseTags := jsonTags(reflect.TypeOf(corpus.Case{}))
	for k := range c {
		assert.True(t, caseTags[k], "docs/CORPUS.md case key %q is no cases.jsonl field", k)
	}
	for k := range c["expect"].(map[string]any) {
		assert.True(t, jsonTags(reflect.TypeOf(corpus.Expect{}))[k], "expect key %q", k)
	}
	for k := range caseTags {
		assert.Contains(t, doc, "`"+k+"`", "cases.jsonl field %q undocumented", k)
	}

	var example map[string]any
	require.NoError(t, json.Unmarshal([]byte(blocks[1][1]), &example))
	fromCase := verdictLines(t, runCLI(t, nil, "replay", filepath.Join(corpusDir, "cases.jsonl")).stdout)["legit-rsa"]
	fromMbox := verdictLines(t, runCLI(t, nil, "replay", "-receiver", corpus.TraceReceiver,
		"-zone", filepath.Join(mailboxDir, "zone.txt"), filepath.Join(mailboxDir, "eml")).stdout)["legit-rsa.eml"]
	for name, line := range map[string]map[string]any{"case": fromCase, "mailbox": fromMbox} {
		require.NotNil(t, line, name)
		assert.Empty(t, missingKeys("", example, line), "%s: keys of docs/CORPUS.md's verdict line missing in a real one", name)
		conn := line["conn"].(map[string]any)
		for k := range conn {
			assert.Contains(t, doc, "`"+k+"`", "conn key %q undocumented", k)
		}
	}
	assert.Equal(t, "case", fromCase["conn"].(map[string]any)["from"])
	assert.Equal(t, "headers", fromMbox["conn"].(map[string]any)["from"])
}
