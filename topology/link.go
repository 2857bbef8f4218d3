package topology

import "github.com/personabackend/app/resource"

// The properties a linked function reads (package resource) are written here alone,
// from the deployed stack's ARNs and URLs or from the local dev mode's.

// LinkProperties is what a function linked to the table reads, given its ARN.
func (t Table) LinkProperties(arn string) resource.Table {
	return resource.Table{Kind: resource.KindTable, Name: t.Name, Arn: arn}
}

// LinkProperties is what a function linked to the topic reads, given its ARN.
func (t Topic) LinkProperties(arn string) resource.Topic {
	return resource.Topic{Kind: resource.KindTopic, Name: t.Name, Arn: arn, FIFO: t.FIFO}
}

// LinkProperties is what a function linked to the queue reads, given its ARN and URL.
func (q Queue) LinkProperties(arn, url string) resource.Queue {
	return resource.Queue{
		Kind: resource.KindQueue, Name: q.Name, Arn: arn, URL: url, FIFO: q.FIFO,
		MaxReceiveCount: q.MaxReceiveCount,
	}
}

// LinkProperties is what a function linked to the secret reads: where its value lives.
func (s Secret) LinkProperties() resource.Secret {
	return resource.Secret{Kind: resource.KindSecret, Parameter: s.Parameter, FallbackParameter: s.FallbackParameter}
}
