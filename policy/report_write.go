package policy

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// Formats in which a Report can be written.
const (
	FormatText  = "text"
	FormatJSON  = "json"
	FormatSARIF = "sarif"
	FormatJUnit = "junit"
)

// WriteReport writes r in the named format.
func WriteReport(w io.Writer, r *Report, format string) error {
	switch format {
	case FormatText:
		return WriteText(w, r)
	case FormatJSON:
		return WriteJSON(w, r)
	case FormatSARIF:
		return WriteSARIF(w, r)
	case FormatJUnit:
		return WriteJUnit(w, r)
	default:
		return fmt.Errorf("unknown output format %q: want text, json, sarif or junit", format)
	}
}

// WriteText writes one block per finding, then a summary line: what a person reads in a merge
// request's CI log.
func WriteText(w io.Writer, r *Report) error {
	var b strings.Builder
	for _, e := range r.Environments {
		if e.Error != "" {
			fmt.Fprintf(&b, "ERROR  %s (%s): %s\n\n", e.Name, e.Path, e.Error)
		}
	}
	for _, f := range r.Findings {
		label := strings.ToUpper(string(f.Severity))
		if f.Exempted != "" {
			label = "EXEMPT"
		}
		fmt.Fprintf(&b, "%-6s %s  %s", label, f.Env, f.Object)
		if f.Source != "" {
			fmt.Fprintf(&b, "  (%s)", f.Source)
		}
		fmt.Fprintf(&b, "\n       %s: %s\n", f.Rule, f.Message)
		if f.Field != "" {
			fmt.Fprintf(&b, "       field: %s\n", f.Field)
		}
		if f.Exempted != "" {
			fmt.Fprintf(&b, "       exempted: %s\n", f.Exempted)
		}
		b.WriteByte('\n')
	}
	s := r.Summary()
	verdict := "OK"
	switch {
	case s.Errors > 0:
		verdict = "ERROR"
	case s.Deny > 0:
		verdict = "FAILED"
	}
	fmt.Fprintf(&b, "%s: %d environment(s), %d object(s): %d deny, %d warn, %d exempted", verdict, s.Environments, s.Objects, s.Deny, s.Warn, s.Exempted)
	if s.Errors > 0 {
		fmt.Fprintf(&b, ", %d environment(s) could not be checked", s.Errors)
	}
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the report with its summary, for scripts.
func WriteJSON(w io.Writer, r *Report) error {
	out := struct {
		Summary Summary `json:"summary"`
		*Report
	}{r.Summary(), r}
	if out.Findings == nil {
		out.Findings = []Finding{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// SARIF 2.1.0, the subset GitHub code scanning reads.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID               string       `json:"id"`
	ShortDescription sarifMessage `json:"shortDescription"`
}

type sarifMessage struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID       string             `json:"ruleId"`
	RuleIndex    int                `json:"ruleIndex"`
	Level        string             `json:"level"`
	Message      sarifMessage       `json:"message"`
	Locations    []sarifLocation    `json:"locations,omitempty"`
	Suppressions []sarifSuppression `json:"suppressions,omitempty"`
	Properties   map[string]string  `json:"properties,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           sarifRegion   `json:"region"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Justification string `json:"justification"`
}

// WriteSARIF writes the findings for GitHub code scanning. Findings are attached to their
// source file (line 1: rendered objects have no line of their own); environment errors become
// results of the rule "render".
func WriteSARIF(w io.Writer, r *Report) error {
	run := sarifRun{Tool: sarifTool{Driver: sarifDriver{Name: "gitops-agent", InformationURI: "https://github.com/gitops-agent/gitops-agent"}}, Results: []sarifResult{}}
	ruleIndex := map[string]int{}
	index := func(rule, description string) int {
		if i, ok := ruleIndex[rule]; ok {
			return i
		}
		ruleIndex[rule] = len(run.Tool.Driver.Rules)
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRule{ID: rule, ShortDescription: sarifMessage{Text: description}})
		return ruleIndex[rule]
	}
	for _, e := range r.Environments {
		if e.Error == "" {
			continue
		}
		run.Results = append(run.Results, sarifResult{
			RuleID: "render", RuleIndex: index("render", "the environment renders and validates"), Level: "error",
			Message:    sarifMessage{Text: fmt.Sprintf("environment %s could not be checked: %s", e.Name, e.Error)},
			Locations:  []sarifLocation{location(e.Path)},
			Properties: map[string]string{"env": e.Name},
		})
	}
	for _, f := range r.Findings {
		res := sarifResult{
			RuleID: f.Rule, RuleIndex: index(f.Rule, "gitops-agent policy "+f.Rule), Level: "warning",
			Message:    sarifMessage{Text: fmt.Sprintf("%s: %s", f.Object, f.Message)},
			Properties: map[string]string{"env": f.Env, "object": f.Object.String()},
		}
		if f.Severity == Deny {
			res.Level = "error"
		}
		if f.Field != "" {
			res.Properties["field"] = f.Field
		}
		if f.Source != "" {
			res.Locations = []sarifLocation{location(f.Source)}
		}
		if f.Exempted != "" {
			res.Suppressions = []sarifSuppression{{Kind: "inSource", Justification: f.Exempted}}
		}
		run.Results = append(run.Results, res)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{
		Schema:  "https://json.schemastore.org/sarif-2.1.0.json",
		Version: "2.1.0",
		Runs:    []sarifRun{run},
	})
}

func location(path string) sarifLocation {
	return sarifLocation{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: path}, Region: sarifRegion{StartLine: 1}}}
}

// JUnit XML, as GitLab's merge request widget reads it: a suite per environment, a test case
// per object with findings, a failure per blocking finding.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Failures  []junitDetail `xml:"failure,omitempty"`
	Error     *junitDetail  `xml:"error,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitDetail struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes the report as JUnit XML.
func WriteJUnit(w io.Writer, r *Report) error {
	out := junitSuites{Name: "gitops-agent check"}
	suites := map[string]*junitSuite{}
	var order []string
	suite := func(env string) *junitSuite {
		if s, ok := suites[env]; ok {
			return s
		}
		suites[env] = &junitSuite{Name: env}
		order = append(order, env)
		return suites[env]
	}
	// Every environment has a case of its own, so a clean one still shows as a passed test.
	for _, e := range r.Environments {
		c := junitCase{Name: "render and validate " + e.Path, Classname: e.Name, File: e.Path}
		if e.Error != "" {
			c.Error = &junitDetail{Message: "environment could not be checked", Type: "render", Text: e.Error}
		}
		s := suite(e.Name)
		s.Cases = append(s.Cases, c)
	}
	caseIndex := map[string]int{} // env + object -> index in its suite
	for _, f := range r.Findings {
		s := suite(f.Env)
		key := f.Env + "\x00" + f.Object.String()
		i, ok := caseIndex[key]
		if !ok {
			i = len(s.Cases)
			caseIndex[key] = i
			s.Cases = append(s.Cases, junitCase{Name: f.Object.String(), Classname: f.Env, File: f.Source})
		}
		c := &s.Cases[i]
		text := f.Message
		if f.Field != "" {
			text += "\nfield: " + f.Field
		}
		if f.Blocks() {
			c.Failures = append(c.Failures, junitDetail{Message: f.Rule + ": " + f.Message, Type: f.Rule, Text: text})
			continue
		}
		note := strings.ToUpper(string(f.Severity)) + " " + f.Rule + ": " + text
		if f.Exempted != "" {
			note = "EXEMPT " + f.Rule + " (" + f.Exempted + "): " + text
		}
		c.SystemOut += note + "\n"
	}
	for _, env := range order {
		s := suites[env]
		s.Tests = len(s.Cases)
		for _, c := range s.Cases {
			if len(c.Failures) > 0 {
				s.Failures++
			}
			if c.Error != nil {
				s.Errors++
			}
		}
		out.Tests += s.Tests
		out.Failures += s.Failures
		out.Errors += s.Errors
		out.Suites = append(out.Suites, *s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
