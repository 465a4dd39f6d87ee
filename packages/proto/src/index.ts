// The generated contract, re-exported under one name so apps never import from src/gen paths.
export * from './gen/portcullis/agent/v1/agent.js';
