import { main } from '../action/boundary.js';
import { waitStep } from '../action/steps.js';

main('wait', waitStep);
