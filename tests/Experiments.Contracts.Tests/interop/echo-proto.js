'use strict';
// Loads the same interop.proto that the C# tests compile.
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const definition = protoLoader.loadSync(path.join(__dirname, '..', 'Protos', 'interop.proto'), {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
});

module.exports = { grpc, Echo: grpc.loadPackageDefinition(definition).interop.v1.Echo };
