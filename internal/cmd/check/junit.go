package check

import (
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jasni/jasni-cli/internal/check"
)

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// writeJUnit writes one testcase per check, so CI systems show each check
// as a test. A warning is a passing test with the warning in its output,
// or a failure with --strict.
func writeJUnit(path, providerName, url string, results []check.Result, strict bool, took time.Duration) error {
	suite := junitSuite{Name: "jasni check " + url, Tests: len(results), Time: seconds(took)}
	for _, r := range results {
		c := junitCase{Name: r.Name, Classname: "jasni.check." + providerName, Time: seconds(r.Duration)}
		var evidence strings.Builder
		for _, e := range r.Evidence {
			fmt.Fprintf(&evidence, "sent %s: status %d in %dms %s %s\n", e.What, e.Status, e.LatencyMS, e.Error, e.Answer)
		}
		if r.Status == check.Fail || r.Status == check.Warn && strict && !r.Advisory {
			suite.Failures++
			c.Failure = &junitFailure{Message: r.Reason, Type: string(r.Status), Text: evidence.String()}
		} else {
			c.SystemOut = strings.TrimSpace(string(r.Status) + ": " + r.Reason + "\n" + evidence.String())
		}
		suite.Cases = append(suite.Cases, c)
	}
	b, err := xml.MarshalIndent(junitSuites{Suites: []junitSuite{suite}}, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".junit-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append([]byte(xml.Header), append(b, '\n')...)); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }
