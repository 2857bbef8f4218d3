package dev

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/personabackend/app/dev/dynamoproxy"
	"github.com/personabackend/app/dev/queues"
	"github.com/personabackend/app/dev/ssmlocal"
	"github.com/personabackend/app/internal/localaws"
)

func (s *Session) startDynamoDB(ctx context.Context) error {
	dbDir := filepath.Join(s.opts.StateDir, "dynamodb")
	if s.opts.Fresh {
		if err := os.RemoveAll(dbDir); err != nil {
			return fmt.Errorf("clearing %s: %w", dbDir, err)
		}
	}
	db, err := localaws.StartDynalite(ctx, localaws.DynaliteOptions{Root: s.opts.Root, DataDir: dbDir})
	if err != nil {
		return err
	}
	s.closers = append(s.closers, db.Stop)
	s.dynalite = db.Endpoint
	client := dynamodb.NewFromConfig(s.awsConfig(), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(db.Endpoint) })
	// Tables kept from an earlier run are left as they are, if their keys and indexes
	// are still the declared ones.
	for _, t := range s.stack.Tables {
		err := localaws.CreateTable(ctx, client, t.Name, t.Schema)
		var mismatch *localaws.SchemaMismatchError
		if errors.As(err, &mismatch) {
			where := dbDir
			if rel, err := filepath.Rel(s.opts.Root, dbDir); err == nil && filepath.IsLocal(rel) {
				where = rel
			}
			return fmt.Errorf("table %s, kept in %s from an earlier run, has an older schema than stage %s declares (%s): its requests would fail. Start with empty tables with `%s dev --stage %s --fresh` (the data kept there is lost)",
				t.Name, where, s.stack.Stage, strings.Join(mismatch.Differences, "; "), s.opts.Program, s.stack.Stage)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *Session) awsConfig() aws.Config { return localaws.Config(s.stack.Region) }

// startAWS serves the local SNS, SQS, SSM and DynamoDB (through its proxy to
// dynalite) on one loopback port, each holding callers to their IAM policy.
func (s *Session) startAWS() error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("starting the local AWS server: %w", err)
	}
	s.AWSEndpoint = "http://" + l.Addr().String()
	s.DynamoDBEndpoint = s.AWSEndpoint
	s.broker = queues.New(s.stack.Region, s.AWSEndpoint, queues.WithAuthorizer(s.access.authz), queues.WithLog(s.log.printf))
	if err := s.broker.Load(s.stack); err != nil {
		l.Close()
		return err
	}
	ssm := ssmlocal.New(ssmlocal.SecureStrings(s.opts.Secrets), s.stack.Region, ssmlocal.WithAuthorizer(s.access.authz))
	dynamo := dynamoproxy.New(s.dynalite, s.stack.Region, dynamoproxy.WithAuthorizer(s.access.authz))
	s.serve(l, AWSHandler(dynamo, ssm, s.broker))
	return nil
}

// AWSHandler serves the local DynamoDB (its proxy), SSM, SQS and SNS on one endpoint,
// as dev does: a request goes to DynamoDB or SSM by its X-Amz-Target, and any other
// (SQS's JSON protocol, SNS's query protocol) to the broker.
func AWSHandler(dynamo *dynamoproxy.Proxy, ssm *ssmlocal.Server, broker *queues.Broker) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case dynamoproxy.IsDynamoDB(r):
			dynamo.ServeHTTP(w, r)
		case strings.HasPrefix(r.Header.Get("X-Amz-Target"), "AmazonSSM."):
			ssm.ServeHTTP(w, r)
		default:
			broker.ServeHTTP(w, r)
		}
	})
}

// startPollers reads each event source's queue as Lambda's event source mapping does:
// with its function's role, so the function's policy must let it consume the queue.
func (s *Session) startPollers() error {
	for _, src := range s.stack.EventSources {
		if _, ok := s.stack.Function(src.Function); !ok {
			return fmt.Errorf("event source %s feeds function %s, which the stack does not declare", src.Queue, src.Function)
		}
		q, ok := s.stack.Queue(src.Queue)
		if !ok {
			return fmt.Errorf("event source %s feeds function %s from a queue the stack does not declare", src.Queue, src.Function)
		}
		creds := s.access.credentials[src.Function]
		cfg := aws.Config{Region: s.stack.Region, Credentials: credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken)}
		p := &poller{
			source: src, queueURL: s.broker.QueueURL(src.Queue), queueARN: s.broker.QueueARN(src.Queue), region: s.stack.Region,
			visibility: time.Duration(q.VisibilityTimeoutSeconds) * time.Second,
			client:     sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(s.AWSEndpoint) }),
			invoke:     s, logf: s.log.printf,
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			p.run(s.runCtx)
		}()
	}
	return nil
}
