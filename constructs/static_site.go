package constructs

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudfrontdistribution"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudfrontfunction"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudfrontkeyvaluestore"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudfrontkeyvaluestorekey"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudfrontoriginaccesscontrol"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudfrontresponseheaderspolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucket"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketpolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketserversideencryptionconfiguration"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3object"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/personabackend/app/build"
	"github.com/personabackend/app/internal/staticsite"
	"github.com/personabackend/app/topology"
)

// StaticSiteProps configures a StaticSite.
type StaticSiteProps struct {
	// Path is the built site: a folder holding index.html and 404.html, relative to
	// the module root or absolute. It is read when the app synthesizes.
	Path string
	// Build, instead of Path, builds the site from its sources while the stacks are
	// declared (once per app, skipped when its sources are unchanged), and serves
	// what it wrote.
	Build *build.Site
	// Name is the short name; resources are "<app>-<stage>-<Name>…", and CloudFront's,
	// whose names are unique across the account's regions, "<app>-<stage>-<region>-<Name>…"
	// (Stack.GlobalName). Default: from the id.
	Name string
	// PublicConfig is written as config.json beside the site's files, for the page to
	// read at start. Every visitor can read it, so it holds no secret: a value is a
	// string (literal, or a construct's attribute such as BackendApi.URL() or
	// UserPool.ID()), a bool or a number. A SecretSet secret is refused.
	PublicConfig map[string]any
	// ConnectTo are the origins the page calls besides its own (the API, the sign-in
	// service): the Content-Security-Policy's connect-src allows exactly these.
	ConnectTo []string
	// ImmutablePaths are the folders of the build whose file names carry a hash of the
	// content, cached for a year. Default: "_next/static/" (a Next.js export).
	ImmutablePaths []string
	// PriceClass is CloudFront's: PriceClass_100 (default: North America and Europe),
	// PriceClass_200 or PriceClass_All.
	PriceClass string
}

// StaticSite hosts a built static site: its files in a private S3 bucket, served only
// through a CloudFront distribution (Origin Access Control), over HTTPS with HTTP/2
// and HTTP/3, with security headers, clean URLs, a 404 page and a config.json of the
// stack's public values. Nothing ever needs a CloudFront invalidation: hashed assets
// are immutable, and everything else is revalidated on each use.
//
// The Content-Security-Policy allows exactly the page's inline scripts and styles and
// the origins of ConnectTo. Those origins usually include an API whose CORS allows this
// site's origin, and a headers policy naming the API would close a Terraform cycle
// (API → distribution → headers policy → API). So the headers policy holds the whole
// policy with connect-src 'self', which covers every response, error pages included,
// and a CloudFront Function on viewer-response widens connect-src to the origins read
// from a CloudFront KeyValueStore. The store's key depends on the API; the function
// and the distribution depend only on the store, so the graph has no cycle, and both
// sides name exactly each other. Until the key is written, the stricter policy stands.
// The cost is one function run (and store read, well under a millisecond) per page
// view; hashed assets skip it. The alternatives were worse: a wildcard such as
// https://*.execute-api.<region>.amazonaws.com is not exactly the API; the API behind
// the same distribution would clash with the pages' paths (/personas is both) and put
// every API call through CloudFront; names known in advance need a domain of your own.
type StaticSite struct {
	stack        *Stack
	id           string
	name         string
	path         string      // the built site, when given as Path
	build        *build.Site // or how to build it
	immutable    []string
	publicConfig map[string]any
	scope        constructs.Construct
	bucket       s3bucket.S3Bucket
	encryption   s3bucketserversideencryptionconfiguration.S3BucketServerSideEncryptionConfigurationA
	headers      cloudfrontresponseheaderspolicy.CloudfrontResponseHeadersPolicy
	distribution cloudfrontdistribution.CloudfrontDistribution
	url          string // one token for the address, so the API's CORS can tell it is this site's
}

// PublicConfigFile is the object a StaticSite writes beside its files from the stack's
// values, and that the page reads at start: one build serves every stage.
const PublicConfigFile = staticsite.ConfigFile

// connectSourcesKey is the key value store's key holding the extra connect-src origins.
const connectSourcesKey = "connect-src"

// cachingOptimized is CloudFront's managed cache policy "Managed-CachingOptimized":
// objects cached as their Cache-Control says (at least 1 s, at most a year), gzip and
// Brotli negotiated, no cookies, headers or query strings in the key.
const cachingOptimized = "658327ea-f89d-4fab-a63d-7e88639e58f6"

// maxCSPLength is CloudFront's limit on a response headers policy's Content-Security-Policy.
const maxCSPLength = 1783

var (
	priceClasses      = map[string]bool{"PriceClass_100": true, "PriceClass_200": true, "PriceClass_All": true}
	configKeyPattern  = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
	immutablePathRule = regexp.MustCompile(`^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*/$`)
)

// NewStaticSite declares the site's bucket, distribution and policies; its files are
// read, and uploaded as objects, when the app synthesizes.
func NewStaticSite(stack *Stack, id string, props StaticSiteProps) (*StaticSite, error) {
	if (props.Path == "") == (props.Build == nil) {
		return nil, fmt.Errorf("static site %s: give either Path (a built site's folder, e.g. web/out) or Build (how synth builds it)", id)
	}
	dir := props.Path
	if dir != "" && !filepath.IsAbs(dir) {
		dir = filepath.Join(stack.app.root, dir)
	}
	priceClass := firstNonEmpty(props.PriceClass, "PriceClass_100")
	if !priceClasses[priceClass] {
		return nil, fmt.Errorf("static site %s: PriceClass %q is not CloudFront's: use PriceClass_100, PriceClass_200 or PriceClass_All", id, priceClass)
	}
	immutable := props.ImmutablePaths
	if immutable == nil {
		immutable = []string{"_next/static/"}
	}
	for _, p := range immutable {
		if !immutablePathRule.MatchString(p) {
			return nil, fmt.Errorf("static site %s: immutable path %q must be a folder of the build written like \"_next/static/\" (no leading slash, a trailing one)", id, p)
		}
	}
	if err := checkPublicConfig(id, props.PublicConfig); err != nil {
		return nil, err
	}
	for _, origin := range props.ConnectTo {
		if err := checkConnectSource(origin); err != nil {
			return nil, fmt.Errorf("static site %s: %w", id, err)
		}
	}
	short := firstNonEmpty(props.Name, kebab(id))
	name, global := stack.ResourceName(short), stack.GlobalName(short)
	if len(global)+len("-rewrite") > 64 {
		return nil, fmt.Errorf("static site %s: name %q is too long for CloudFront's 64-character names: shorten the site or stage name", id, global+"-rewrite")
	}
	for _, other := range stack.sites {
		if other.name == name {
			return nil, fmt.Errorf("static site %s: another site of the stack is already named %q: give one of them another Name", id, name)
		}
	}

	scope := stack.scope(id)
	if props.Build != nil && !stack.app.declareOnly {
		stack.app.sites.Start(stack.app.ctx, *props.Build)
	}
	site := &StaticSite{
		stack:        stack,
		id:           id,
		name:         name,
		path:         dir,
		build:        props.Build,
		immutable:    immutable,
		publicConfig: props.PublicConfig,
		scope:        scope,
	}
	// SSE-S3 rather than a KMS key: the files are public through CloudFront anyway, so
	// a customer key would protect nothing more, while it would cost a key, need a key
	// policy letting CloudFront decrypt, and break Terraform's ETag change detection
	// (an SSE-KMS object's ETag is not the MD5 of its content).
	private := newPrivateBucket(scope, "bucket", &s3bucket.S3BucketConfig{
		// Bucket names are global: Terraform appends a unique suffix to this prefix.
		BucketPrefix: jsii.String(bucketPrefix(name)),
		// The files are a build, not data: a removed stage takes them along.
		ForceDestroy: jsii.Bool(!stack.stage.Protected),
	})
	site.bucket, site.encryption = private.bucket, private.encryption
	access := cloudfrontoriginaccesscontrol.NewCloudfrontOriginAccessControl(scope, jsii.String("origin-access"), &cloudfrontoriginaccesscontrol.CloudfrontOriginAccessControlConfig{
		Name:                          jsii.String(global),
		Description:                   jsii.String("CloudFront signs its requests to the site's bucket"),
		OriginAccessControlOriginType: jsii.String("s3"),
		SigningBehavior:               jsii.String("always"),
		SigningProtocol:               jsii.String("sigv4"),
	})
	// The security headers are set at synth, when the pages' inline hashes are known.
	site.headers = cloudfrontresponseheaderspolicy.NewCloudfrontResponseHeadersPolicy(scope, jsii.String("headers"), &cloudfrontresponseheaderspolicy.CloudfrontResponseHeadersPolicyConfig{
		Name:    jsii.String(global),
		Comment: jsii.String("Security headers of " + name),
	})
	rewrite := cloudfrontfunction.NewCloudfrontFunction(scope, jsii.String("rewrite"), &cloudfrontfunction.CloudfrontFunctionConfig{
		Name:      jsii.String(global + "-rewrite"),
		Runtime:   jsii.String("cloudfront-js-2.0"),
		Comment:   jsii.String("Clean URLs: /page is served from page.html, /folder/ from folder/index.html"),
		Code:      jsii.String(rewriteFunctionCode),
		Publish:   jsii.Bool(true),
		Lifecycle: createBeforeDestroy(),
	})
	pageFunctions := []*cloudfrontdistribution.CloudfrontDistributionDefaultCacheBehaviorFunctionAssociation{{
		EventType:   jsii.String("viewer-request"),
		FunctionArn: rewrite.Arn(),
	}}
	if len(props.ConnectTo) > 0 {
		store := cloudfrontkeyvaluestore.NewCloudfrontKeyValueStore(scope, jsii.String("connect-sources"), &cloudfrontkeyvaluestore.CloudfrontKeyValueStoreConfig{
			Name:      jsii.String(global),
			Comment:   jsii.String("The origins the pages of " + name + " may call (CSP connect-src)"),
			Lifecycle: createBeforeDestroy(),
		})
		cloudfrontkeyvaluestorekey.NewCloudfrontkeyvaluestoreKey(scope, jsii.String("connect-sources-key"), &cloudfrontkeyvaluestorekey.CloudfrontkeyvaluestoreKeyConfig{
			KeyValueStoreArn: store.Arn(),
			Key:              jsii.String(connectSourcesKey),
			Value:            jsii.String(strings.Join(props.ConnectTo, " ")),
		})
		csp := cloudfrontfunction.NewCloudfrontFunction(scope, jsii.String("connect-sources-function"), &cloudfrontfunction.CloudfrontFunctionConfig{
			Name:                      jsii.String(global + "-csp"),
			Runtime:                   jsii.String("cloudfront-js-2.0"),
			Comment:                   jsii.String("Widens the pages' CSP connect-src to the origins in the key value store"),
			Code:                      jsii.String(connectSourcesFunctionCode),
			KeyValueStoreAssociations: jsii.Strings(*store.Arn()),
			Publish:                   jsii.Bool(true),
			Lifecycle:                 createBeforeDestroy(),
		})
		pageFunctions = append(pageFunctions, &cloudfrontdistribution.CloudfrontDistributionDefaultCacheBehaviorFunctionAssociation{
			EventType:   jsii.String("viewer-response"),
			FunctionArn: csp.Arn(),
		})
	}
	const origin = "site-bucket"
	var assets []*cloudfrontdistribution.CloudfrontDistributionOrderedCacheBehavior
	for _, p := range immutable {
		// Hashed assets need no function: their URLs are files, and a CSP governs pages.
		assets = append(assets, &cloudfrontdistribution.CloudfrontDistributionOrderedCacheBehavior{
			PathPattern:             jsii.String("/" + p + "*"),
			TargetOriginId:          jsii.String(origin),
			ViewerProtocolPolicy:    jsii.String("redirect-to-https"),
			AllowedMethods:          jsii.Strings("GET", "HEAD"),
			CachedMethods:           jsii.Strings("GET", "HEAD"),
			CachePolicyId:           jsii.String(cachingOptimized),
			Compress:                jsii.Bool(true),
			ResponseHeadersPolicyId: site.headers.Id(),
		})
	}
	// S3 answers 403, not 404, for a missing key when the reader may not list the
	// bucket, and CloudFront may only read objects here: so a 403 from the bucket means
	// "no such page" and gets the 404 page with status 404, as a 404 would. (A real
	// access fault would look the same to a visitor; CloudFront's logs still tell.)
	var notFound []*cloudfrontdistribution.CloudfrontDistributionCustomErrorResponse
	for _, code := range []float64{403, 404} {
		notFound = append(notFound, &cloudfrontdistribution.CloudfrontDistributionCustomErrorResponse{
			ErrorCode:          jsii.Number(code),
			ResponseCode:       jsii.Number(404),
			ResponsePagePath:   jsii.String("/" + staticsite.NotFoundPage),
			ErrorCachingMinTtl: jsii.Number(10),
		})
	}
	site.distribution = cloudfrontdistribution.NewCloudfrontDistribution(scope, jsii.String("distribution"), &cloudfrontdistribution.CloudfrontDistributionConfig{
		Enabled:           jsii.Bool(true),
		Comment:           jsii.String(name),
		HttpVersion:       jsii.String("http2and3"),
		IsIpv6Enabled:     jsii.Bool(true),
		PriceClass:        jsii.String(priceClass),
		DefaultRootObject: jsii.String("index.html"),
		Origin: []*cloudfrontdistribution.CloudfrontDistributionOrigin{{
			OriginId:              jsii.String(origin),
			DomainName:            site.bucket.BucketRegionalDomainName(),
			OriginAccessControlId: access.Id(),
		}},
		DefaultCacheBehavior: &cloudfrontdistribution.CloudfrontDistributionDefaultCacheBehavior{
			TargetOriginId:          jsii.String(origin),
			ViewerProtocolPolicy:    jsii.String("redirect-to-https"),
			AllowedMethods:          jsii.Strings("GET", "HEAD"),
			CachedMethods:           jsii.Strings("GET", "HEAD"),
			CachePolicyId:           jsii.String(cachingOptimized),
			Compress:                jsii.Bool(true),
			ResponseHeadersPolicyId: site.headers.Id(),
			FunctionAssociation:     pageFunctions,
		},
		OrderedCacheBehavior: assets,
		CustomErrorResponse:  notFound,
		Restrictions: &cloudfrontdistribution.CloudfrontDistributionRestrictions{
			GeoRestriction: &cloudfrontdistribution.CloudfrontDistributionRestrictionsGeoRestriction{RestrictionType: jsii.String("none")},
		},
		ViewerCertificate: &cloudfrontdistribution.CloudfrontDistributionViewerCertificate{CloudfrontDefaultCertificate: jsii.Bool(true)},
	})
	site.url = "https://" + *site.distribution.DomainName()
	policy, err := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{
			{
				"Sid":       "CloudFrontReadsObjects",
				"Effect":    "Allow",
				"Principal": map[string]string{"Service": "cloudfront.amazonaws.com"},
				"Action":    "s3:GetObject",
				"Resource":  *site.bucket.Arn() + "/*",
				"Condition": map[string]any{"StringEquals": map[string]string{"AWS:SourceArn": *site.distribution.Arn()}},
			},
			private.tlsOnly(),
		},
	})
	if err != nil {
		return nil, err
	}
	s3bucketpolicy.NewS3BucketPolicy(scope, jsii.String("bucket-policy"), &s3bucketpolicy.S3BucketPolicyConfig{
		Bucket: site.bucket.Id(),
		Policy: jsii.String(string(policy)),
		// S3 refuses concurrent changes to one bucket's configuration.
		DependsOn: &[]cdktf.ITerraformDependable{private.publicAccess},
	})
	stack.sites = append(stack.sites, site)
	stack.topo.Sites = append(stack.topo.Sites, topology.Site{ID: id, Name: name, Build: props.Build, Path: props.Path, ImmutablePaths: immutable})
	return site, nil
}

// URL is the site's address, https://<distribution domain>: also its origin, as CORS names it.
func (s *StaticSite) URL() string { return s.url }

// DistributionID is the CloudFront distribution's id.
func (s *StaticSite) DistributionID() string { return *s.distribution.Id() }

// BucketName is the name of the bucket holding the files.
func (s *StaticSite) BucketName() string { return *s.bucket.Bucket() }

// attachFiles waits for the site's build, if it has one, reads the built site and
// declares its objects, its config.json and the security headers that depend on its pages.
func (s *StaticSite) attachFiles(ctx context.Context) (*staticsite.Scan, *build.SiteArtifact, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	dir := s.path
	var built *build.SiteArtifact
	if s.build != nil {
		art, err := s.stack.app.sites.Wait(ctx, *s.build)
		if err != nil {
			return nil, nil, fmt.Errorf("static site %s: %w", s.id, err)
		}
		dir, built = art.Dir, &art
	}
	scan, err := s.stack.app.scanSite(dir, s.immutable)
	if err != nil {
		return nil, nil, fmt.Errorf("static site %s: %w", s.id, err)
	}
	csp := scan.ContentSecurityPolicy()
	if len(csp) > maxCSPLength {
		return nil, nil, fmt.Errorf("static site %s: the Content-Security-Policy is %d characters, over CloudFront's %d: the pages hold %d distinct inline scripts and %d inline styles; move inline code into files of the build", s.id, len(csp), maxCSPLength, len(scan.ScriptHashes), len(scan.StyleHashes))
	}
	s.headers.PutSecurityHeadersConfig(&cloudfrontresponseheaderspolicy.CloudfrontResponseHeadersPolicySecurityHeadersConfig{
		ContentSecurityPolicy: &cloudfrontresponseheaderspolicy.CloudfrontResponseHeadersPolicySecurityHeadersConfigContentSecurityPolicy{
			ContentSecurityPolicy: jsii.String(csp),
			Override:              jsii.Bool(true),
		},
		// Two years, the preload list's minimum; preload itself is for a domain of your
		// own, not for the distribution's cloudfront.net name.
		StrictTransportSecurity: &cloudfrontresponseheaderspolicy.CloudfrontResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurity{
			AccessControlMaxAgeSec: jsii.Number(63072000),
			IncludeSubdomains:      jsii.Bool(true),
			Override:               jsii.Bool(true),
		},
		ContentTypeOptions: &cloudfrontresponseheaderspolicy.CloudfrontResponseHeadersPolicySecurityHeadersConfigContentTypeOptions{
			Override: jsii.Bool(true),
		},
		FrameOptions: &cloudfrontresponseheaderspolicy.CloudfrontResponseHeadersPolicySecurityHeadersConfigFrameOptions{
			FrameOption: jsii.String("DENY"),
			Override:    jsii.Bool(true),
		},
		ReferrerPolicy: &cloudfrontresponseheaderspolicy.CloudfrontResponseHeadersPolicySecurityHeadersConfigReferrerPolicy{
			ReferrerPolicy: jsii.String("strict-origin-when-cross-origin"),
			Override:       jsii.Bool(true),
		},
	})

	// One copy of the build beside the stack, at a path that stays the same from build
	// to build: each object's source then changes only when its content does (its ETag),
	// so Terraform uploads just the changed files.
	asset := cdktf.NewTerraformAsset(s.scope, jsii.String("build"), &cdktf.TerraformAssetConfig{
		Path:      jsii.String(scan.Dir),
		Type:      cdktf.AssetType_DIRECTORY,
		AssetHash: jsii.String("files"),
	})
	files := map[string]any{}
	for _, f := range scan.Files {
		files[f.Key] = map[string]string{
			"source":        *asset.Path() + "/" + f.Key,
			"etag":          f.ETag,
			"content_type":  f.ContentType,
			"cache_control": f.CacheControl,
		}
	}
	// One resource over a map keyed by the file's path: each file's address is
	// aws_s3_object.<id>["<path>"], stable for as long as the path exists, and a
	// new build adds and removes instances, never resource blocks.
	each := cdktf.TerraformIterator_FromMap(files)
	s3object.NewS3Object(s.scope, jsii.String("files"), &s3object.S3ObjectConfig{
		ForEach:      each,
		Bucket:       s.bucket.Id(),
		Key:          each.Key(),
		Source:       each.GetString(jsii.String("source")),
		Etag:         each.GetString(jsii.String("etag")),
		ContentType:  each.GetString(jsii.String("content_type")),
		CacheControl: each.GetString(jsii.String("cache_control")),
		DependsOn:    &[]cdktf.ITerraformDependable{s.encryption},
	})
	config, err := publicConfigJSON(s.publicConfig)
	if err != nil {
		return nil, nil, fmt.Errorf("static site %s: %w", s.id, err)
	}
	s3object.NewS3Object(s.scope, jsii.String("config"), &s3object.S3ObjectConfig{
		Bucket:       s.bucket.Id(),
		Key:          jsii.String(PublicConfigFile),
		Content:      jsii.String(config),
		ContentType:  jsii.String("application/json"),
		CacheControl: jsii.String(staticsite.CacheRevalidate),
		DependsOn:    &[]cdktf.ITerraformDependable{s.encryption},
	})
	return scan, built, nil
}

// scanSite reads a site folder once per app, however many stages serve it.
func (a *App) scanSite(dir string, immutable []string) (*staticsite.Scan, error) {
	key := dir + "\x00" + strings.Join(immutable, "\x00")
	if scan, ok := a.siteScans[key]; ok {
		return scan, nil
	}
	scan, err := staticsite.Read(dir, immutable)
	if err != nil {
		return nil, err
	}
	if a.siteScans == nil {
		a.siteScans = map[string]*staticsite.Scan{}
	}
	a.siteScans[key] = scan
	return scan, nil
}

// publicConfigJSON is config.json as a Terraform template: the literal values encoded
// here, each Terraform value through Terraform's jsonencode, so the file is JSON
// whatever a value holds. (One jsonencode of the whole object would do the same, but
// its HCL rendering, synth --hcl, is reformatted and no longer matches the JSON.)
func publicConfigJSON(config map[string]any) (string, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, key := range slices.Sorted(maps.Keys(config)) {
		if i > 0 {
			b.WriteByte(',')
		}
		name, err := json.Marshal(key)
		if err != nil {
			return "", err
		}
		b.Write(name)
		b.WriteByte(':')
		if str, ok := config[key].(string); ok && *cdktf.Token_IsUnresolved(jsii.String(str)) {
			b.WriteString(*cdktf.Fn_Jsonencode(str))
			continue
		}
		value, err := json.Marshal(config[key])
		if err != nil {
			return "", fmt.Errorf("public config %q: %w", key, err)
		}
		// Terraform would read "${" and "%{" in the text as the start of an
		// interpolation or directive.
		b.WriteString(strings.NewReplacer("${", "$${", "%{", "%%{").Replace(string(value)))
	}
	b.WriteByte('}')
	return b.String(), nil
}

// checkPublicConfig refuses what must not, or cannot, be written to config.json.
func checkPublicConfig(id string, config map[string]any) error {
	for _, key := range slices.Sorted(maps.Keys(config)) {
		if !configKeyPattern.MatchString(key) {
			return fmt.Errorf("static site %s: public config key %q: use letters, digits and underscores, starting with a letter", id, key)
		}
		var secret string
		switch v := config[key].(type) {
		case string, bool, int, int64, float64:
			continue
		case *Secret:
			secret = "a secret"
			if v != nil {
				secret = "the secret " + v.LinkName()
			}
		case *SecretSet:
			secret = "a set of secrets"
			if v != nil {
				secret = "the secrets " + strings.Join(v.Names(), ", ")
			}
		case LinkTo:
			if s, ok := v.Resource.(*Secret); ok {
				secret = "a link to the secret " + s.LinkName()
			} else {
				return fmt.Errorf("static site %s: public config %q is a link: a site has no server to link to; give the value the page needs, such as the API's URL", id, key)
			}
		default:
			return fmt.Errorf("static site %s: public config %q is a %T: give a string (literal, or an attribute such as BackendApi.URL()), a bool or a number", id, key, v)
		}
		return fmt.Errorf("static site %s: public config %q is %s: %s is served to every visitor, so every visitor's browser would get it. Keep the secret server-side: link it to a function (Links: {secret, Read}) behind the API, and let the page call that route", id, key, secret, PublicConfigFile)
	}
	return nil
}

// checkConnectSource accepts an origin for connect-src: a construct's attribute, or
// https://host[:port] (http only for localhost), as the CSP function accepts them.
func checkConnectSource(origin string) error {
	if *cdktf.Token_IsUnresolved(jsii.String(origin)) {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || strings.ContainsAny(origin, " ;,'\"") || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil ||
		!(u.Scheme == "https" || u.Scheme == "http" && u.Hostname() == "localhost") {
		return fmt.Errorf("connect source %q is not an origin: write https://host[:port] (http only for localhost)", origin)
	}
	return nil
}

// bucketPrefix is the readable start of the bucket's name: at most the 37 characters
// Terraform accepts, ending in a hyphen before the unique suffix.
func bucketPrefix(name string) string {
	if len(name) > 36 {
		name = strings.TrimRight(name[:36], "-")
	}
	return name + "-"
}

// The functions' code is written on one line: CDKTF's HCL rendering (synth --hcl)
// writes a string with newlines as a heredoc with one newline too many.

// rewriteFunctionCode serves a static export's clean URLs (viewer-request): /personas
// from personas.html, /docs/ from docs/index.html; a path whose last segment has a dot
// names a file and is left alone. The query string is a separate field and stays.
const rewriteFunctionCode = "function handler(event) { " +
	"var request = event.request; " +
	"var uri = request.uri; " +
	"if (uri.endsWith('/')) { request.uri = uri + 'index.html'; } " +
	"else if (uri.lastIndexOf('.') < uri.lastIndexOf('/')) { request.uri = uri + '.html'; } " +
	"return request; " +
	"}"

// connectSourcesFunctionCode widens the connect-src the response headers policy set
// (viewer-response) to the origins kept under "connect-src" in the key value store.
// Without that key (not yet written), or with a value that is not a list of origins,
// the stricter policy stands. (No backslash in it: CDKTF's HCL rendering would not
// escape one.)
const connectSourcesFunctionCode = "import cf from 'cloudfront'; " +
	"const kvs = cf.kvs(); " +
	"const origin = new RegExp('^https?://[A-Za-z0-9.-]+(:[0-9]+)?$'); " +
	"async function handler(event) { " +
	"const response = event.response; " +
	"const csp = response.headers['content-security-policy']; " +
	"if (!csp) { return response; } " +
	"let sources; " +
	"try { sources = await kvs.get('connect-src'); } catch (err) { return response; } " +
	"if (!sources.split(' ').every(function (s) { return origin.test(s); })) { return response; } " +
	`csp.value = csp.value.replace("connect-src 'self';", function () { return "connect-src 'self' " + sources + ";"; }); ` +
	"return response; " +
	"}"
