export * from './gmt8';
