package queues

import (
	"fmt"
	"net/http"
)

// apiError is an error as SQS and SNS report it: its code, its message, the HTTP
// status and whose fault it is.
type apiError struct {
	code    string // the SNS error code, or the SQS error shape (the JSON __type)
	message string
	status  int  // 0 means 400 for a sender's fault, 500 otherwise
	sender  bool // the caller's fault (Sender) rather than the service's (Receiver)
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func (e *apiError) httpStatus() int {
	switch {
	case e.status != 0:
		return e.status
	case e.sender:
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// sqsQueryCodes are the codes SQS's query protocol uses, in the x-amzn-query-error
// header of a JSON answer, for the error shapes whose code differs from the shape's name.
var sqsQueryCodes = map[string]string{
	"QueueDoesNotExist":            "AWS.SimpleQueueService.NonExistentQueue",
	"MessageNotInflight":           "AWS.SimpleQueueService.MessageNotInflight",
	"EmptyBatchRequest":            "AWS.SimpleQueueService.EmptyBatchRequest",
	"TooManyEntriesInBatchRequest": "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
	"BatchEntryIdsNotDistinct":     "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
	"InvalidBatchEntryId":          "AWS.SimpleQueueService.InvalidBatchEntryId",
	"BatchRequestTooLong":          "AWS.SimpleQueueService.BatchRequestTooLong",
	"UnsupportedOperation":         "AWS.SimpleQueueService.UnsupportedOperation",
	"AccessDeniedException":        "AccessDenied",
}

// queryCode is the code of e as SQS's query protocol names it.
func (e *apiError) queryCode() string {
	if c, ok := sqsQueryCodes[e.code]; ok {
		return c
	}
	return e.code
}

func senderError(code, format string, args ...any) *apiError {
	return &apiError{code: code, message: fmt.Sprintf(format, args...), sender: true}
}

// invalid is SQS's InvalidParameterValue.
func invalid(format string, args ...any) *apiError {
	return senderError("InvalidParameterValue", format, args...)
}

// invalidValue is SQS's message for a parameter value it refuses.
func invalidValue(param string, value any, reason string) *apiError {
	return invalid("Value %v for parameter %s is invalid. Reason: %s", value, param, reason)
}

func missing(param string) *apiError {
	return senderError("MissingParameter", "The request must contain the parameter %s.", param)
}

var (
	errQueueDoesNotExist = senderError("QueueDoesNotExist", "The specified queue does not exist.")
	errInvalidHandle     = senderError("ReceiptHandleIsInvalid", "The input receipt handle is invalid.")
	errNotInFlight       = senderError("MessageNotInflight", "The message referred to is not in flight.")
	errTopicNotFound     = &apiError{code: "NotFound", message: "Topic does not exist", status: http.StatusNotFound, sender: true}
)

// snsInvalid is SNS's InvalidParameter, whose messages start "Invalid parameter: ".
func snsInvalid(format string, args ...any) *apiError {
	return senderError("InvalidParameter", "Invalid parameter: "+format, args...)
}

// snsInvalidValue is SNS's ParameterValueInvalid, which it answers for bad message attributes.
func snsInvalidValue(format string, args ...any) *apiError {
	return senderError("ParameterValueInvalid", format, args...)
}
