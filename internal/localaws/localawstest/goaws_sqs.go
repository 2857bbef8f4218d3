package localawstest

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// GoawsSQS talks to goaws's SQS with the query protocol, the only one goaws speaks;
// the AWS SDK for Go v2 speaks the JSON protocol and cannot be used against it.
type GoawsSQS struct {
	Endpoint string
	Client   *http.Client
}

// Message is a message received from a goaws queue.
type Message struct {
	ID            string
	ReceiptHandle string
	Body          string
	// Attributes holds the string values of the message attributes.
	Attributes map[string]string
}

// CreateQueue creates the queue named name and returns its URL and ARN.
// goaws's queue URL carries a host name that does not resolve; use it only as an identifier.
func (q GoawsSQS) CreateQueue(ctx context.Context, name string) (queueURL, arn string, err error) {
	var out struct {
		Result struct {
			QueueURL string `xml:"QueueUrl"`
		} `xml:"CreateQueueResult"`
	}
	if err := q.call(ctx, url.Values{"Action": {"CreateQueue"}, "QueueName": {name}}, &out); err != nil {
		return "", "", fmt.Errorf("creating queue %s: %w", name, err)
	}
	return out.Result.QueueURL, "arn:aws:sqs:" + Region + ":100010001000:" + name, nil
}

// Receive returns up to max messages waiting in the queue, without waiting for more.
func (q GoawsSQS) Receive(ctx context.Context, queueURL string, max int) ([]Message, error) {
	var out struct {
		Result struct {
			Messages []struct {
				ID            string `xml:"MessageId"`
				ReceiptHandle string `xml:"ReceiptHandle"`
				Body          string `xml:"Body"`
				Attributes    []struct {
					Name  string `xml:"Name"`
					Value struct {
						StringValue string `xml:"StringValue"`
					} `xml:"Value"`
				} `xml:"MessageAttribute"`
			} `xml:"Message"`
		} `xml:"ReceiveMessageResult"`
	}
	form := url.Values{
		"Action":                {"ReceiveMessage"},
		"QueueUrl":              {queueURL},
		"MaxNumberOfMessages":   {strconv.Itoa(max)},
		"WaitTimeSeconds":       {"0"},
		"MessageAttributeNames": {"All"},
	}
	if err := q.call(ctx, form, &out); err != nil {
		return nil, fmt.Errorf("receiving from %s: %w", queueURL, err)
	}
	msgs := make([]Message, 0, len(out.Result.Messages))
	for _, m := range out.Result.Messages {
		attrs := map[string]string{}
		for _, a := range m.Attributes {
			attrs[a.Name] = a.Value.StringValue
		}
		msgs = append(msgs, Message{ID: m.ID, ReceiptHandle: m.ReceiptHandle, Body: m.Body, Attributes: attrs})
	}
	return msgs, nil
}

func (q GoawsSQS) call(ctx context.Context, form url.Values, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, q.Endpoint+"/", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	client := q.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("goaws answered %s: %s", resp.Status, body)
	}
	if err := xml.Unmarshal(body, out); err != nil {
		return fmt.Errorf("decoding goaws answer %q: %w", body, err)
	}
	return nil
}
