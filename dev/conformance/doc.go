// Package conformance holds one set of scenarios, written against the AWS SDK for Go v2,
// that the dev mode's local stand-ins (SNS and SQS, SSM, DynamoDB behind its proxy) and
// moto's server both run. Each scenario states what AWS documents; where moto is known to
// differ from AWS, the difference is listed beside the scenarios with the page that
// documents AWS's behaviour. The package has tests only.
package conformance
