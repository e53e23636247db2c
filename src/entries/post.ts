import { main } from '../action/boundary.js';
import { postStep } from '../action/steps.js';

main('post', postStep);
