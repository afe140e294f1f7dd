import { startServices } from './services';

export default startServices;
