package queues

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"
)

// md5Hex is the checksum SQS returns for a message body.
func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// md5OfAttributes computes SQS's MD5OfMessageAttributes: for each attribute in name order,
// length-prefixed name, data type, a transport byte (1 string, 2 binary) and the value.
func md5OfAttributes(attrs map[string]Attribute) string {
	if len(attrs) == 0 {
		return ""
	}
	h := md5.New()
	field := func(b []byte) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	for _, name := range slices.Sorted(maps.Keys(attrs)) {
		a := attrs[name]
		field([]byte(name))
		field([]byte(a.DataType))
		if strings.HasPrefix(a.DataType, "Binary") {
			h.Write([]byte{2})
			field(a.BinaryValue)
		} else {
			h.Write([]byte{1})
			field([]byte(a.StringValue))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// notification is the JSON envelope SNS delivers to a queue without raw message delivery.
func notification(topicARN, subscriptionARN string, out sendOutput, in publishInput, now time.Time) string {
	type attr struct {
		Type  string `json:"Type"`
		Value string `json:"Value"`
	}
	env := struct {
		Type              string          `json:"Type"`
		MessageID         string          `json:"MessageId"`
		SequenceNumber    string          `json:"SequenceNumber,omitempty"`
		TopicArn          string          `json:"TopicArn"`
		Subject           string          `json:"Subject,omitempty"`
		Message           string          `json:"Message"`
		Timestamp         string          `json:"Timestamp"`
		UnsubscribeURL    string          `json:"UnsubscribeURL"`
		MessageAttributes map[string]attr `json:"MessageAttributes,omitempty"`
	}{
		Type:           "Notification",
		MessageID:      out.MessageID,
		SequenceNumber: out.SequenceNumber,
		TopicArn:       topicARN,
		Subject:        in.Subject,
		Message:        in.Message,
		Timestamp:      now.UTC().Format("2006-01-02T15:04:05.000Z"),
		UnsubscribeURL: "http://localhost/?Action=Unsubscribe&SubscriptionArn=" + subscriptionARN,
	}
	if len(in.Attributes) > 0 {
		env.MessageAttributes = map[string]attr{}
		for name, a := range in.Attributes {
			v := a.StringValue
			if strings.HasPrefix(a.DataType, "Binary") {
				v = base64.StdEncoding.EncodeToString(a.BinaryValue)
			}
			env.MessageAttributes[name] = attr{Type: a.DataType, Value: v}
		}
	}
	data, _ := json.Marshal(env) // only strings and maps of strings: cannot fail
	return string(data)
}
