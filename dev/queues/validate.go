package queues

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// AWS's limits, from the SQS and SNS quotas pages.
const (
	// maxAttributes is how many message attributes an SQS message may carry; SNS
	// accepts more, but raw delivery of such a message to a queue discards it.
	maxAttributes = 10
	// maxQueueMessageSize is the largest MaximumMessageSize a queue may have, and the
	// size of a queue that does not set one.
	maxQueueMessageSize = 1 << 20
	// maxTopicMessageSize is what a topic accepts: body and attributes together.
	maxTopicMessageSize = 256 << 10
	maxDelaySeconds     = 900
	maxVisibility       = 43200 // 12 hours, also the most a message may stay in flight
	maxWaitSeconds      = 20
	maxBatchEntries     = 10
	maxIDLength         = 128
	maxAttributeName    = 256
	maxSubjectLength    = 99
)

// idPattern is what MessageGroupId and MessageDeduplicationId may hold: alphanumeric
// and punctuation characters, 1 to 128 of them.
var idPattern = regexp.MustCompile(`^[!-~]{1,128}$`)

// batchIDPattern is what a batch entry's Id may hold.
var batchIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

// attributeNamePattern is what a message attribute name may hold.
var attributeNamePattern = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// validText reports whether s holds only characters SQS accepts in a message:
// #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF.
func validText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		switch {
		case r == 0x9 || r == 0xA || r == 0xD:
		case r >= 0x20 && r <= 0xD7FF:
		case r >= 0xE000 && r <= 0xFFFD:
		case r >= 0x10000 && r <= 0x10FFFF:
		default:
			return false
		}
	}
	return true
}

// checkAttributeName applies the naming rules both services share; what names the
// problem differs between them, so it returns the reason alone.
func checkAttributeName(name string) string {
	lower := strings.ToLower(name)
	switch {
	case name == "" || len(name) > maxAttributeName:
		return "must be 1 to 256 characters long"
	case !attributeNamePattern.MatchString(name):
		return "can contain only A-Z, a-z, 0-9, underscore (_), hyphen (-) and period (.)"
	case strings.HasPrefix(lower, "aws.") || strings.HasPrefix(lower, "amazon."):
		return "can't start with AWS-reserved prefixes such as AWS. or Amazon."
	case strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") || strings.Contains(name, ".."):
		return "can't start or end with a period, or hold two periods in a row"
	}
	return ""
}

// baseType is an attribute's data type without its custom suffix ("Number.int" is
// "Number"; SQS takes SNS's "String.Array" for a String with a custom suffix).
func baseType(dataType string) string {
	base, _, _ := strings.Cut(dataType, ".")
	return base
}

// checkSQSAttributes applies SQS's rules to a message's attributes.
func checkSQSAttributes(attrs map[string]Attribute) error {
	if len(attrs) > maxAttributes {
		return invalid("Number of message attributes [%d] exceeds the allowed maximum [%d].", len(attrs), maxAttributes)
	}
	for _, name := range slices.Sorted(maps.Keys(attrs)) {
		a := attrs[name]
		if reason := checkAttributeName(name); reason != "" {
			return invalid("Message (user) attribute name '%s' is invalid: it %s.", name, reason)
		}
		switch baseType(a.DataType) {
		case "String", "Number":
			if a.StringValue == "" {
				return invalid("Message (user) attribute '%s' must contain a non-empty value of type '%s'.", name, baseType(a.DataType))
			}
			if !validText(a.StringValue) {
				return invalid("Message (user) attribute '%s' holds characters outside the allowed set.", name)
			}
			if baseType(a.DataType) == "Number" && !isNumber(a.StringValue) {
				return invalid("Can't cast the value of message (user) attribute '%s' to a number.", name)
			}
		case "Binary":
			if len(a.BinaryValue) == 0 {
				return invalid("Message (user) attribute '%s' must contain a non-empty value of type 'Binary'.", name)
			}
		case "":
			return invalid("The message attribute '%s' must contain a non-empty attribute type.", name)
		default:
			return invalid("The type of message (user) attribute '%s' is invalid. You must use only the following supported type prefixes: Binary, Number, String.", name)
		}
	}
	return nil
}

// checkSNSAttributes applies SNS's rules to a published message's attributes.
func checkSNSAttributes(attrs map[string]Attribute) error {
	for _, name := range slices.Sorted(maps.Keys(attrs)) {
		a := attrs[name]
		if reason := checkAttributeName(name); reason != "" {
			return snsInvalidValue("The message attribute name '%s' is invalid: it %s.", name, reason)
		}
		typ := baseType(a.DataType)
		if a.DataType == "String.Array" {
			typ = a.DataType
		}
		switch typ {
		case "String", "Number", "String.Array":
			if a.StringValue == "" {
				return snsInvalidValue("The message attribute '%s' must contain non-empty message attribute value for message attribute type '%s'.", name, typ)
			}
		case "Binary":
			if len(a.BinaryValue) == 0 {
				return snsInvalidValue("The message attribute '%s' must contain non-empty message attribute value for message attribute type 'Binary'.", name)
			}
		case "":
			return snsInvalidValue("The message attribute '%s' must contain non-empty message attribute type.", name)
		default:
			return snsInvalidValue("The message attribute '%s' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.", name)
		}
		switch typ {
		case "Number":
			if !isNumber(a.StringValue) {
				return snsInvalidValue("Could not cast message attribute '%s' value to number.", name)
			}
		case "String.Array":
			var items []any
			if json.Unmarshal([]byte(a.StringValue), &items) != nil {
				return snsInvalidValue("The message attribute '%s' with type 'String.Array' must be a JSON array.", name)
			}
		}
	}
	return nil
}

// isNumber reports whether s is a number as message attributes take them: an
// optionally signed decimal with an optional exponent.
func isNumber(s string) bool {
	_, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return err == nil && strings.TrimSpace(s) == s && !strings.ContainsAny(s, "xXnN_")
}

// attributesSize is what attributes add to a message's size: each one's name, data
// type and value.
func attributesSize(attrs map[string]Attribute) int {
	n := 0
	for name, a := range attrs {
		n += len(name) + len(a.DataType) + len(a.StringValue) + len(a.BinaryValue)
	}
	return n
}

// checkID applies the rules of MessageGroupId and MessageDeduplicationId; reason
// says what makes it invalid, or is empty.
func checkID(id string) string {
	if !idPattern.MatchString(id) {
		return fmt.Sprintf("it can only include alphanumeric and punctuation characters, 1 to %d of them", maxIDLength)
	}
	return ""
}

// checkBatchIDs applies the rules every batch request shares to its entry ids.
func checkBatchIDs(ids []string, entryKind string) error {
	if len(ids) == 0 {
		return senderError("EmptyBatchRequest", "There should be at least one %s in the request.", entryKind)
	}
	if len(ids) > maxBatchEntries {
		return senderError("TooManyEntriesInBatchRequest", "Maximum number of entries per request are %d. You have sent %d.", maxBatchEntries, len(ids))
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if !batchIDPattern.MatchString(id) {
			return senderError("InvalidBatchEntryId", "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.")
		}
		if seen[id] {
			return senderError("BatchEntryIdsNotDistinct", "Id %s repeated.", id)
		}
		seen[id] = true
	}
	return nil
}
