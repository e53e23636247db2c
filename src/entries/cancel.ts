import { main } from '../action/boundary.js';
import { cancelStep } from '../action/steps.js';

main('cancel', cancelStep);
