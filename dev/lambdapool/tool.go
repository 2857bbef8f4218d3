package lambdapool

import "github.com/personabackend/app/internal/localaws"

// EmulatorTool is the AWS Lambda Runtime Interface Emulator binary.
var EmulatorTool = localaws.Tool{Name: "aws-lambda-rie", EnvVar: "AWS_LAMBDA_RIE_BIN", InRepo: ".tools/bin/aws-lambda-rie"}
