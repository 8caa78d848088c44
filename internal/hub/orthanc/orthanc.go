// Package orthanc hands DICOM files to an Orthanc server through its REST
// API: POST /instances with the file as the body, and the JSON answer checked.
package orthanc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Client posts instances to one Orthanc. The zero Timeout means 60 s.
type Client struct {
	// URL is Orthanc's REST root, e.g. http://127.0.0.1:8042.
	URL                string
	Username, Password string
	Timeout            time.Duration
	// HTTP is the client to use; nil means a plain one.
	HTTP *http.Client
}

// Answer is Orthanc's reply to POST /instances.
type Answer struct {
	ID            string `json:"ID"`
	ParentPatient string `json:"ParentPatient"`
	ParentStudy   string `json:"ParentStudy"`
	ParentSeries  string `json:"ParentSeries"`
	Path          string `json:"Path"`
	Status        string `json:"Status"`
}

// HTTPError is an answer other than 200 to a POST.
type HTTPError struct {
	URL          string
	Code         int
	Status, Body string
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("orthanc: POST %s: %s: %s", e.URL, e.Status, e.Body)
}

// FileRefused reports whether Orthanc refused the file itself: 400 is its
// answer to a body it cannot read as DICOM, 413 and 415 refuse the body's
// size or type. Any other code (authentication, a server error) is of the
// server's state or set-up, and sending again may pass.
func (e *HTTPError) FileRefused() bool {
	switch e.Code {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
		return true
	}
	return false
}

// maxAnswer bounds what is read of a reply: a real one is about 400 bytes.
const maxAnswer = 64 << 10

// Forward posts one DICOM file and returns Orthanc's instance id. Orthanc
// derives that id from the patient, study, series and SOP Instance UIDs, so
// posting the same file again answers "AlreadyStored" with the same id and
// keeps one copy; both answers mean the PACS holds the instance.
func (c *Client) Forward(ctx context.Context, dicom []byte) (string, error) {
	a, err := c.Post(ctx, dicom)
	if err != nil {
		return "", err
	}
	return a.ID, nil
}

// Post posts one DICOM file and checks the answer.
func (c *Client) Post(ctx context.Context, dicom []byte) (*Answer, error) {
	t := c.Timeout
	if t <= 0 {
		t = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, t)
	defer cancel()
	u := strings.TrimRight(c.URL, "/") + "/instances"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(dicom))
	if err != nil {
		return nil, fmt.Errorf("orthanc: %w", err)
	}
	req.Header.Set("Content-Type", "application/dicom")
	if c.Username != "" {
		req.SetBasicAuth(c.Username, c.Password)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("orthanc: POST %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return nil, fmt.Errorf("orthanc: POST %s: read answer: %w", u, err)
	}
	if len(body) > maxAnswer {
		return nil, fmt.Errorf("orthanc: POST %s: answer longer than %d bytes", u, maxAnswer)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &HTTPError{URL: u, Code: resp.StatusCode, Status: resp.Status, Body: strings.TrimSpace(string(body))}
	}
	a := new(Answer)
	if err := json.Unmarshal(body, a); err != nil {
		return nil, fmt.Errorf("orthanc: POST %s: answer is not the JSON of one instance: %w", u, err)
	}
	switch {
	case a.Status != "Success" && a.Status != "AlreadyStored":
		return nil, fmt.Errorf("orthanc: POST %s: status %q", u, a.Status)
	case a.ID == "":
		return nil, fmt.Errorf("orthanc: POST %s: answer has no instance id", u)
	}
	return a, nil
}
