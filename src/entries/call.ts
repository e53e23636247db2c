import { main } from '../action/boundary.js';
import { callStep } from '../action/steps.js';

main('call', callStep);
