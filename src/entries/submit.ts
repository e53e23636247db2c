import { main } from '../action/boundary.js';
import { submitStep } from '../action/steps.js';

main('submit', submitStep);
