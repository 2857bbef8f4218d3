package queues

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/personabackend/app/dev/iam"
	"github.com/personabackend/app/internal/iamaction"
)

// The SQS JSON protocol (awsJson1_0), as the AWS SDK for Go v2 speaks it. Errors carry
// the error shape in the body's __type and SQS's query-protocol code in the
// x-amzn-query-error header, as SQS answers them.

// sqsOperations are the SQS operations the broker serves, by name. Each gets the IAM
// action that authorizes it (iamaction.For).
var sqsOperations = map[string]func(b *Broker, r *http.Request, action string) (any, error){
	"GetQueueUrl":                  (*Broker).getQueueURL,
	"GetQueueAttributes":           (*Broker).getQueueAttributes,
	"SendMessage":                  (*Broker).sendMessage,
	"SendMessageBatch":             (*Broker).sendMessageBatch,
	"ReceiveMessage":               (*Broker).receiveMessage,
	"DeleteMessage":                (*Broker).deleteMessage,
	"DeleteMessageBatch":           (*Broker).deleteMessageBatch,
	"ChangeMessageVisibility":      (*Broker).changeMessageVisibility,
	"ChangeMessageVisibilityBatch": (*Broker).changeMessageVisibilityBatch,
}

func (b *Broker) serveSQS(w http.ResponseWriter, r *http.Request, op string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("x-amzn-RequestId", uuid.NewString())
	serve, ok := sqsOperations[op]
	if !ok {
		writeSQSError(w, senderError("UnsupportedOperation", "the local SQS does not implement %s", op))
		return
	}
	action, err := iamaction.For("sqs", op)
	if err != nil {
		writeSQSError(w, err)
		return
	}
	res, err := serve(b, r, action)
	if err != nil {
		writeSQSError(w, err)
		return
	}
	json.NewEncoder(w).Encode(res)
}

func writeSQSError(w http.ResponseWriter, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = &apiError{code: "InternalError", message: err.Error()}
	}
	party := "Receiver"
	if ae.sender {
		party = "Sender"
	}
	typ := "com.amazonaws.sqs#" + ae.code
	if ae.code == "AccessDeniedException" {
		typ = "com.amazon.coral.service#AccessDeniedException"
	}
	w.Header().Set("x-amzn-query-error", ae.queryCode()+";"+party)
	w.WriteHeader(ae.httpStatus())
	json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": ae.message})
}

func decode(r *http.Request, into any) error {
	if err := json.NewDecoder(r.Body).Decode(into); err != nil {
		return senderError("SerializationException", "malformed request body: %v", err)
	}
	return nil
}

// authorizedQueue checks that the caller may make action on the queue a URL (or a
// name) names, then finds the queue. As SQS does, it answers AccessDenied before
// saying whether the queue exists.
func (b *Broker) authorizedQueue(r *http.Request, action, urlOrName string) (*queue, error) {
	if urlOrName == "" {
		return nil, missing("QueueUrl")
	}
	name := queueName(urlOrName)
	if b.authz != nil {
		if d := b.authz.Authorize(r, iam.Call{Action: action, Resource: b.QueueARN(name)}); d != nil {
			// SQS writes the action in lower case: "sqs:sendmessage".
			return nil, &apiError{code: "AccessDeniedException", message: d.Message(strings.ToLower(action)), status: http.StatusForbidden, sender: true}
		}
	}
	q, ok := b.queue(name)
	if !ok {
		return nil, errQueueDoesNotExist
	}
	return q, nil
}

type jsonAttribute struct {
	DataType    string `json:"DataType"`
	StringValue string `json:"StringValue,omitempty"`
	BinaryValue []byte `json:"BinaryValue,omitempty"`
}

func fromJSONAttributes(in map[string]jsonAttribute) map[string]Attribute {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]Attribute, len(in))
	for name, a := range in {
		out[name] = Attribute{DataType: a.DataType, StringValue: a.StringValue, BinaryValue: a.BinaryValue}
	}
	return out
}

func toJSONAttributes(in map[string]Attribute) map[string]jsonAttribute {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]jsonAttribute, len(in))
	for name, a := range in {
		out[name] = jsonAttribute{DataType: a.DataType, StringValue: a.StringValue, BinaryValue: a.BinaryValue}
	}
	return out
}

// batchFailure is a failed entry of a batch answer.
type batchFailure struct {
	Id, Code, Message string
	SenderFault       bool
}

func failure(id string, err error) batchFailure {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = &apiError{code: "InternalError", message: err.Error()}
	}
	return batchFailure{Id: id, Code: ae.queryCode(), Message: ae.message, SenderFault: ae.sender}
}

func (b *Broker) getQueueURL(r *http.Request, action string) (any, error) {
	var in struct{ QueueName string }
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if in.QueueName == "" {
		return nil, missing("QueueName")
	}
	if _, err := b.authorizedQueue(r, action, in.QueueName); err != nil {
		return nil, err
	}
	return map[string]string{"QueueUrl": b.QueueURL(in.QueueName)}, nil
}

func (b *Broker) getQueueAttributes(r *http.Request, action string) (any, error) {
	var in struct {
		QueueUrl       string
		AttributeNames []string
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	q, err := b.authorizedQueue(r, action, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	for _, n := range in.AttributeNames {
		if !queueAttributeNames[n] {
			return nil, senderError("InvalidAttributeName", "Unknown Attribute %s.", n)
		}
	}
	all := b.queueAttributes(q)
	out := map[string]string{}
	for _, n := range in.AttributeNames {
		if n == "All" {
			out = all
			break
		}
		if v, ok := all[n]; ok {
			out[n] = v
		}
	}
	return map[string]any{"Attributes": out}, nil
}

// sendEntry is a message as SendMessage and SendMessageBatch's entries give it.
type sendEntry struct {
	Id                     string
	MessageBody            string
	MessageAttributes      map[string]jsonAttribute
	MessageGroupId         string
	MessageDeduplicationId string
	DelaySeconds           int
}

func (e sendEntry) input() sendInput {
	return sendInput{
		Body: e.MessageBody, Attributes: fromJSONAttributes(e.MessageAttributes),
		GroupID: e.MessageGroupId, DeduplicationID: e.MessageDeduplicationId, DelaySeconds: e.DelaySeconds,
	}
}

// sendResult is what SQS answers for a sent message.
func sendResult(in sendInput, out sendOutput) map[string]string {
	res := map[string]string{"MessageId": out.MessageID, "MD5OfMessageBody": md5Hex(in.Body)}
	if s := md5OfAttributes(in.Attributes); s != "" {
		res["MD5OfMessageAttributes"] = s
	}
	if out.SequenceNumber != "" {
		res["SequenceNumber"] = out.SequenceNumber
	}
	return res
}

func (b *Broker) sendMessage(r *http.Request, action string) (any, error) {
	var in struct {
		QueueUrl string
		sendEntry
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	q, err := b.authorizedQueue(r, action, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	msg := in.input()
	out, err := b.send(q, msg)
	if err != nil {
		return nil, err
	}
	return sendResult(msg, out), nil
}

// maxBatchSize is the most bytes a batch's messages may hold together.
const maxBatchSize = 1 << 20

func (b *Broker) sendMessageBatch(r *http.Request, action string) (any, error) {
	var in struct {
		QueueUrl string
		Entries  []sendEntry
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	q, err := b.authorizedQueue(r, action, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(in.Entries))
	size := 0
	for i, e := range in.Entries {
		ids[i] = e.Id
		size += len(e.MessageBody) + attributesSize(fromJSONAttributes(e.MessageAttributes))
	}
	if err := checkBatchIDs(ids, "SendMessageBatchRequestEntry"); err != nil {
		return nil, err
	}
	if size > maxBatchSize {
		return nil, senderError("BatchRequestTooLong", "Batch requests cannot be longer than %d bytes. You have sent %d bytes.", maxBatchSize, size)
	}
	successful, failed := []map[string]string{}, []batchFailure{}
	for _, e := range in.Entries {
		msg := e.input()
		out, err := b.send(q, msg)
		if err != nil {
			failed = append(failed, failure(e.Id, err))
			continue
		}
		res := sendResult(msg, out)
		res["Id"] = e.Id
		successful = append(successful, res)
	}
	return map[string]any{"Successful": successful, "Failed": failed}, nil
}

func (b *Broker) receiveMessage(r *http.Request, action string) (any, error) {
	var in struct {
		QueueUrl                    string
		MaxNumberOfMessages         *int
		VisibilityTimeout           *int
		WaitTimeSeconds             int
		AttributeNames              []string
		MessageSystemAttributeNames []string
		MessageAttributeNames       []string
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	q, err := b.authorizedQueue(r, action, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	max := 1
	if in.MaxNumberOfMessages != nil {
		max = *in.MaxNumberOfMessages
	}
	if max < 1 || max > maxBatchEntries {
		return nil, invalidValue("MaxNumberOfMessages", max, "Must be between 1 and 10, if provided.")
	}
	if in.WaitTimeSeconds < 0 || in.WaitTimeSeconds > maxWaitSeconds {
		return nil, invalidValue("WaitTimeSeconds", in.WaitTimeSeconds, "Must be >= 0 and <= 20, if provided.")
	}
	visibility := q.def.VisibilityTimeoutSeconds
	if in.VisibilityTimeout != nil {
		visibility = *in.VisibilityTimeout
	}
	if visibility < 0 || visibility > maxVisibility {
		return nil, invalidValue("VisibilityTimeout", visibility, fmt.Sprintf("Must be >= 0 and <= %d, if provided.", maxVisibility))
	}
	got := b.receive(r.Context(), q, max, time.Duration(visibility)*time.Second, time.Duration(in.WaitTimeSeconds)*time.Second)
	sysNames := append(in.AttributeNames, in.MessageSystemAttributeNames...)
	type jsonMessage struct {
		MessageId              string
		ReceiptHandle          string
		MD5OfBody              string
		Body                   string
		Attributes             map[string]string        `json:",omitempty"`
		MessageAttributes      map[string]jsonAttribute `json:",omitempty"`
		MD5OfMessageAttributes string                   `json:",omitempty"`
	}
	msgs := []jsonMessage{}
	for _, m := range got {
		attrs := pickAttributes(m.Attributes, in.MessageAttributeNames)
		msgs = append(msgs, jsonMessage{
			MessageId:              m.MessageID,
			ReceiptHandle:          m.ReceiptHandle,
			MD5OfBody:              md5Hex(m.Body),
			Body:                   m.Body,
			Attributes:             pickSystem(m.SystemAttributes, sysNames),
			MessageAttributes:      toJSONAttributes(attrs),
			MD5OfMessageAttributes: md5OfAttributes(attrs),
		})
	}
	return map[string]any{"Messages": msgs}, nil
}

// pickAttributes keeps the message attributes a receive asked for: "All", ".*",
// exact names, or name prefixes ending in ".*".
func pickAttributes(attrs map[string]Attribute, names []string) map[string]Attribute {
	out := map[string]Attribute{}
	for name, a := range attrs {
		for _, want := range names {
			if want == "All" || want == ".*" || want == name ||
				(strings.HasSuffix(want, ".*") && strings.HasPrefix(name, strings.TrimSuffix(want, "*"))) {
				out[name] = a
				break
			}
		}
	}
	return out
}

func pickSystem(attrs map[string]string, names []string) map[string]string {
	out := map[string]string{}
	for _, want := range names {
		if want == "All" {
			return attrs
		}
		if v, ok := attrs[want]; ok {
			out[want] = v
		}
	}
	return out
}

func (b *Broker) deleteMessage(r *http.Request, action string) (any, error) {
	var in struct{ QueueUrl, ReceiptHandle string }
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	q, err := b.authorizedQueue(r, action, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	return struct{}{}, b.delete(q, in.ReceiptHandle)
}

func (b *Broker) deleteMessageBatch(r *http.Request, action string) (any, error) {
	var in struct {
		QueueUrl string
		Entries  []struct{ Id, ReceiptHandle string }
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	q, err := b.authorizedQueue(r, action, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(in.Entries))
	for i, e := range in.Entries {
		ids[i] = e.Id
	}
	if err := checkBatchIDs(ids, "DeleteMessageBatchRequestEntry"); err != nil {
		return nil, err
	}
	successful, failed := []map[string]string{}, []batchFailure{}
	for _, e := range in.Entries {
		if err := b.delete(q, e.ReceiptHandle); err != nil {
			failed = append(failed, failure(e.Id, err))
			continue
		}
		successful = append(successful, map[string]string{"Id": e.Id})
	}
	return map[string]any{"Successful": successful, "Failed": failed}, nil
}

func (b *Broker) changeMessageVisibility(r *http.Request, action string) (any, error) {
	var in struct {
		QueueUrl, ReceiptHandle string
		VisibilityTimeout       int
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	q, err := b.authorizedQueue(r, action, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	return struct{}{}, b.changeVisibility(q, in.ReceiptHandle, time.Duration(in.VisibilityTimeout)*time.Second)
}

func (b *Broker) changeMessageVisibilityBatch(r *http.Request, action string) (any, error) {
	var in struct {
		QueueUrl string
		Entries  []struct {
			Id, ReceiptHandle string
			VisibilityTimeout int
		}
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	q, err := b.authorizedQueue(r, action, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(in.Entries))
	for i, e := range in.Entries {
		ids[i] = e.Id
	}
	if err := checkBatchIDs(ids, "ChangeMessageVisibilityBatchRequestEntry"); err != nil {
		return nil, err
	}
	successful, failed := []map[string]string{}, []batchFailure{}
	for _, e := range in.Entries {
		if err := b.changeVisibility(q, e.ReceiptHandle, time.Duration(e.VisibilityTimeout)*time.Second); err != nil {
			failed = append(failed, failure(e.Id, err))
			continue
		}
		successful = append(successful, map[string]string{"Id": e.Id})
	}
	return map[string]any{"Successful": successful, "Failed": failed}, nil
}
